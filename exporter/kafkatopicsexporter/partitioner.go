package kafkatopicsexporter

import (
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The exporter picks each record's partition itself, before producing:
// only then can a record of a failing partition go to that partition's
// backlog (backlog.go) instead of into the client, where it would hold its
// export call. The client is given a partitioner that keeps the choice.

// stickyBytes is how many bytes of unkeyed (or balanced) records go to one
// partition before the next is used, as franz-go's uniform-bytes
// partitioner does: batches stay large.
const stickyBytes = 64 << 10

// partitioner is both the client's kgo.Partitioner and the exporter's view
// of each topic's partition count, which the client tells it.
type partitioner struct {
	balanced bool
	mu       sync.Mutex
	topics   map[string]*topicPartitioner
}

func newPartitioner(mode PartitionMode) *partitioner {
	return &partitioner{balanced: mode == PartitionBalance, topics: make(map[string]*topicPartitioner)}
}

// ForTopic is called by the client once per topic.
func (p *partitioner) ForTopic(topic string) kgo.TopicPartitioner { return p.topic(topic) }

// topic returns the topic's state, made on first use.
func (p *partitioner) topic(topic string) *topicPartitioner {
	p.mu.Lock()
	defer p.mu.Unlock()
	tp, ok := p.topics[topic]
	if !ok {
		// Kafka's own hashing (murmur2, as the Java client), from franz-go:
		// a keyed record lands where a Java producer would put it.
		tp = &topicPartitioner{balanced: p.balanced, hash: kgo.StickyKeyPartitioner(nil).ForTopic(topic)}
		p.topics[topic] = tp
	}
	return tp
}

// topicPartitioner chooses partitions of one topic.
type topicPartitioner struct {
	balanced bool
	// count is the topic's partition count as the client last saw it;
	// 0 until the client has partitioned a record of the topic.
	count atomic.Int32
	// hash is stateless for records with a key.
	hash kgo.TopicPartitioner

	mu          sync.Mutex // guards the sticky choice of unkeyed records
	sticky      int32
	stickyBytes int
}

// RequiresConsistency: every record goes exactly where the exporter said,
// even to a partition the client cannot reach (the backlog deals with it).
func (*topicPartitioner) RequiresConsistency(*kgo.Record) bool { return true }

// Partition keeps the exporter's choice (r.Partition) when it is one of
// the n partitions; else (the exporter did not know the count yet) it
// chooses as the exporter would.
func (tp *topicPartitioner) Partition(r *kgo.Record, n int) int {
	tp.count.Store(int32(n)) //nolint:gosec // G115: n is a Kafka partition count, an int32 on the wire
	if r.Partition >= 0 && int(r.Partition) < n {
		return int(r.Partition)
	}
	return int(tp.choose(r, int32(n))) //nolint:gosec // G115: n is a Kafka partition count, an int32 on the wire
}

// pick returns the partition for r, or -1 while the topic's partition
// count is not known (the client then chooses, through Partition).
func (tp *topicPartitioner) pick(r *kgo.Record) int32 {
	n := tp.count.Load()
	if n <= 0 {
		return -1
	}
	return tp.choose(r, n)
}

func (tp *topicPartitioner) choose(r *kgo.Record, n int32) int32 {
	if r.Key != nil && !tp.balanced {
		return int32(tp.hash.Partition(r, int(n))) //nolint:gosec // G115: the hash partitioner returns an index below n, an int32
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.stickyBytes += len(r.Key) + len(r.Value)
	if tp.stickyBytes > stickyBytes || tp.sticky >= n {
		tp.sticky = (tp.sticky + 1) % n
		tp.stickyBytes = 0
	}
	return tp.sticky
}

// ordered says whether records of r's kind must stay on their partition
// to keep their order (keyed records in key mode).
func (tp *topicPartitioner) ordered(r *kgo.Record) bool { return r.Key != nil && !tp.balanced }
