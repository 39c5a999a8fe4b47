package kafkatopicsexporter

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// A partition whose leader is unreachable or failing must not hold the
// export calls of every other partition (tier 2 has one export call at a
// time, so one stalled call stalls the whole side and sends the edges to
// the other data center). So:
//
//   - an export call waits for its records' acknowledgements at most
//     partition_backlog.failing_after; a partition with records still
//     unanswered then is failing, and those records are left to its backlog
//     (they stay in the client; their answer comes to the backlog);
//   - a record that Kafka failed with a retriable error goes to its
//     partition's backlog too;
//   - while a partition has a backlog, new records for it are queued
//     behind it (policy wait: order per key holds) or produced to another
//     partition (policy redirect, counted);
//   - all this only while the failure is partial (some partition answers,
//     see partial): when the whole cluster is down, records stay in the
//     sending queue (on disk, if it is persistent) as without backlogs;
//   - one goroutine produces each backlog in order, one window at a time
//     (100 records after a failure, doubling after each acknowledged one up
//     to 10,000; all windows together at most half the client's
//     max_buffered_records), and ends the backlog
//     once everything in it is acknowledged: then records go straight to
//     the partition again;
//   - a record that finds its backlog full is handed back to the caller
//     with a retriable error: tier 2 stops acknowledging to the edges only
//     when it truly cannot hold more.
//
// The backlog is in memory: records in it were acknowledged upstream, so a
// crash loses them (at most the configured bounds); at shutdown the
// backlogs are drained for as long as the shutdown allows, and what is
// left is counted as dropped (reason shutdown).

// Drain windows: how many records of one backlog are in the client at
// once. Small after a failure (a probe that ties up little of the client's
// buffer), doubling after each fully acknowledged window.
const (
	drainMinWindow   = 100
	drainMaxWindow   = 10_000
	drainWindowBytes = 4 << 20
	retryMinBackoff  = 100 * time.Millisecond
	retryMaxBackoff  = 2 * time.Second
)

// tpKey names one partition of one topic.
type tpKey struct {
	topic     string
	partition int32
}

// parkState is where a parked record is.
type parkState uint8

const (
	parkWaiting  parkState = iota // to be produced
	parkInflight                  // in the client, its answer to come
	parkDone                      // acknowledged
	parkDropped                   // refused for good (reason)
)

// parked is one record held by a backlog.
type parked struct {
	rec    *kgo.Record
	size   int64
	class  topicClass
	why    redirectReason
	state  parkState
	reason dropReason
	tries  int
	owner  *partitionBacklog
}

// partitionBacklog is the backlog of one partition, in order.
type partitionBacklog struct {
	key      tpKey
	queue    []*parked
	bytes    int64
	inflight int
	reserved int  // records of export calls routed behind it, not in it yet
	failed   bool // a record of the last window failed (retriable)
	retryAt  time.Time
	backoff  time.Duration
	window   int
	attrs    metric.MeasurementOption
}

// backlogs holds every partition backlog of the exporter.
type backlogs struct {
	cfg    PartitionBacklogConfig
	e      *kafkaExporter
	client *kgo.Client

	mu         sync.Mutex
	parts      map[tpKey]*partitionBacklog
	totalBytes int64
	inflight   map[*kgo.Record]*parked // records the drainer produced
	// maxInflight bounds them: half the client's buffer, so that export
	// calls always find room there.
	maxInflight int
	closed      bool
	lastAck     atomic.Int64  // unix nanoseconds of the latest acknowledgement
	missing     []string      // topics Kafka said do not exist, to forget
	changed     chan struct{} // closed and replaced when parts change
	promise     func(*kgo.Record, error)

	wake chan struct{}
	stop context.CancelFunc
	done chan struct{}
}

func newBacklogs(cfg PartitionBacklogConfig, e *kafkaExporter) *backlogs {
	bl := &backlogs{
		cfg:      cfg,
		e:        e,
		parts:    make(map[tpKey]*partitionBacklog),
		inflight: make(map[*kgo.Record]*parked),
		changed:  make(chan struct{}),
		wake:     make(chan struct{}, 1),

		maxInflight: max(1, e.cfg.Producer.MaxBufferedRecords/2),
	}
	bl.promise = bl.answerDrained
	return bl
}

// start runs the drainer with the exporter's client.
func (bl *backlogs) start(client *kgo.Client) {
	bl.client = client
	ctx, cancel := context.WithCancel(context.Background())
	bl.stop, bl.done = cancel, make(chan struct{})
	go bl.run(ctx)
}

// route decides whether a record of an export call, its partition already
// chosen (r.Partition, -1 when the client will choose), is produced now
// or goes behind its partition's backlog (behind). With policy redirect,
// or for a record that need not keep its partition, a partition with a
// backlog is avoided instead; redirected says the record was moved.
func (bl *backlogs) route(tp *topicPartitioner, topic string, r *kgo.Record) (behind, redirected bool) {
	if r.Partition < 0 {
		return false, false
	}
	bl.mu.Lock()
	defer bl.mu.Unlock()
	pb := bl.parts[tpKey{topic, r.Partition}]
	if pb == nil {
		return false, false
	}
	if bl.cfg.Policy == BacklogRedirect || !tp.ordered(r) {
		if n := tp.count.Load(); n > 0 {
			for i := int32(1); i < n; i++ {
				q := (r.Partition + i) % n
				if _, busy := bl.parts[tpKey{topic, q}]; !busy {
					r.Partition = q
					return false, tp.ordered(r)
				}
			}
		}
	}
	// Reserved until settleBehind: the backlog must not end (and later
	// records of the call go straight to the partition) before this one
	// is in it.
	pb.reserved++
	return true, false
}

// settleBehind puts a record that route sent behind its partition's
// backlog into it, when the failure is partial and there is room; else it
// only gives up the reservation, and the record goes back to the caller.
func (bl *backlogs) settleBehind(key tpKey, r *kgo.Record, m *recMeta, partial bool) bool {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	defer bl.wakeUp()
	pb := bl.parts[key]
	pb.reserved--
	size := recSize(r)
	if !partial || !bl.roomLocked(pb, size) {
		return false
	}
	bl.appendLocked(pb, copyRecord(r), size, m, parkWaiting)
	return true
}

// noteAck records that Kafka acknowledged a record just now.
func (bl *backlogs) noteAck() { bl.lastAck.Store(time.Now().UnixNano()) }

// partial says whether a failure is partial: Kafka acknowledged records
// (of some partition) within the last 10 failing_after. Only then do the
// backlogs take records. When every partition fails (the cluster is
// down), records stay where they are durable: in the sending queue,
// handed back for retry, as without backlogs.
func (bl *backlogs) partial() bool {
	return time.Since(time.Unix(0, bl.lastAck.Load())) < 10*bl.cfg.FailingAfter
}

// handOff takes a record an export call produced and stopped waiting for:
// it stays in the client and its answer is given to answer. Nil when the
// backlog has no room (the call hands the record back instead). A record
// the client partitioned (partition -1: the topic's partitions were not
// known yet) waits in a backlog of its topic's own, which holds no other
// record back.
func (bl *backlogs) handOff(key tpKey, r *kgo.Record, m *recMeta) *parked {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	return bl.parkLocked(key, r, m, parkInflight)
}

// park takes a copy of a record Kafka failed with a retriable error, to
// be produced again in order. False when the backlog has no room.
func (bl *backlogs) park(key tpKey, r *kgo.Record, m *recMeta) bool {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	if bl.parkLocked(key, copyRecord(r), m, parkWaiting) == nil {
		return false
	}
	bl.wakeUp()
	return true
}

func (bl *backlogs) parkLocked(key tpKey, r *kgo.Record, m *recMeta, state parkState) *parked {
	if bl.closed || (key.partition < 0 && state != parkInflight) {
		return nil
	}
	pb := bl.parts[key]
	size := recSize(r)
	if pb == nil {
		if len(bl.parts) >= bl.cfg.MaxPartitions || bl.totalBytes+size > bl.cfg.MaxTotalBytes {
			return nil
		}
		pb = &partitionBacklog{key: key, window: drainMinWindow, backoff: retryMinBackoff,
			attrs: metric.WithAttributeSet(attribute.NewSet(
				attribute.String("topic", key.topic),
				attribute.String("partition", partitionLabel(key.partition))))}
		bl.parts[key] = pb
		bl.notifyLocked()
	} else if !bl.roomLocked(pb, size) {
		return nil
	}
	p := bl.appendLocked(pb, r, size, m, state)
	// The export call produced it once: the backlog's next produce of it
	// is a resend (records_resent), unlike a record settled behind.
	p.tries = 1
	if state == parkInflight {
		pb.inflight++
	}
	return p
}

func (bl *backlogs) roomLocked(pb *partitionBacklog, size int64) bool {
	return !bl.closed && len(pb.queue) < bl.cfg.MaxRecords &&
		pb.bytes+size <= bl.cfg.MaxBytes && bl.totalBytes+size <= bl.cfg.MaxTotalBytes
}

func (bl *backlogs) appendLocked(pb *partitionBacklog, r *kgo.Record, size int64, m *recMeta, state parkState) *parked {
	p := &parked{rec: r, size: size, class: m.class, why: m.why, state: state, owner: pb}
	pb.queue = append(pb.queue, p)
	pb.bytes += size
	bl.totalBytes += size
	return p
}

// answer is the answer of a record handed off by an export call.
func (bl *backlogs) answer(p *parked, err error) {
	bl.mu.Lock()
	bl.answerLocked(p, err)
	bl.mu.Unlock()
	bl.wakeUp()
}

// answerDrained is the promise of every record the drainer produces.
func (bl *backlogs) answerDrained(r *kgo.Record, err error) {
	bl.mu.Lock()
	if p, ok := bl.inflight[r]; ok {
		delete(bl.inflight, r)
		bl.answerLocked(p, err)
	}
	bl.mu.Unlock()
	bl.wakeUp()
}

func (bl *backlogs) answerLocked(p *parked, err error) {
	if p.state != parkInflight {
		return // counted at shutdown already
	}
	p.owner.inflight--
	switch {
	case err == nil:
		p.state = parkDone
		bl.noteAck()
		return
	case isUnknownTopic(err) && bl.e.router.fallback != "" && p.rec.Topic != bl.e.router.fallback:
		// Deleted since it was checked: as in an export call, forgotten,
		// and the record to the fallback topic (from this backlog).
		bl.missing = append(bl.missing, p.rec.Topic)
		p.rec.Topic, p.class, p.why = bl.e.router.fallback, classFallback, redirectUnknownTopic
		p.rec.Partition = -1
	default:
		if reason, perm := permanentReason(err); perm {
			p.state, p.reason = parkDropped, reason
			return
		}
		p.owner.failed = true
	}
	p.state = parkWaiting
}

func (bl *backlogs) wakeUp() {
	select {
	case bl.wake <- struct{}{}:
	default:
	}
}

// notifyLocked tells waiters (shutdown) that the set of backlogs changed.
func (bl *backlogs) notifyLocked() {
	close(bl.changed)
	bl.changed = make(chan struct{})
}

// run is the drainer: it settles answered windows, ends empty backlogs and
// produces the next window of each, until stopped.
func (bl *backlogs) run(ctx context.Context) {
	defer close(bl.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next, batch := bl.step(ctx, time.Now())
		// Produce, not TryProduce: a record refused for a full buffer
		// while the next one got in would break the order. The windows
		// take at most half the buffer, so this rarely waits.
		for _, r := range batch {
			bl.client.Produce(ctx, r, bl.promise)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-bl.wake:
		case <-timer.C:
		}
	}
}

// step settles every backlog with nothing in flight and picks the next
// windows to produce. It returns how long until a backoff ends.
func (bl *backlogs) step(ctx context.Context, now time.Time) (time.Duration, []*kgo.Record) {
	next := time.Hour
	var batch []*kgo.Record
	var c stepCounts

	bl.mu.Lock()
	missing := bl.missing
	bl.missing = nil
	defer func() {
		bl.mu.Unlock()
		bl.e.forgetMissing(missing)
		bl.e.count(ctx, c.produced, c.redirected, c.dropped)
		if c.resent > 0 {
			bl.e.tel.LogxKafkatopicsRecordsResent.Add(ctx, c.resent)
		}
	}()
	for key, pb := range bl.parts {
		if pb.inflight > 0 {
			continue
		}
		bl.settleLocked(pb, &c)
		if len(pb.queue) == 0 {
			if pb.reserved == 0 {
				delete(bl.parts, key)
				bl.notifyLocked()
			}
			continue
		}
		if wait := retryWait(pb, now); wait > 0 {
			next = min(next, wait)
			continue
		}
		batch = bl.windowLocked(pb, batch, &c)
	}
	return next, batch
}

// stepCounts is what one step settled and produced again, counted once
// the step lets go of the lock.
type stepCounts struct {
	produced   [numClasses]int64
	redirected [numRedirectReasons]int64
	dropped    [numReasons]int64
	resent     int64
}

// settleLocked takes the records Kafka answered for (acknowledged or
// dropped) off pb's queue and counts them; an acknowledgement from a
// partition that answers again shortens its backoff and widens its window.
func (bl *backlogs) settleLocked(pb *partitionBacklog, c *stepCounts) {
	kept := pb.queue[:0]
	for _, p := range pb.queue {
		switch p.state {
		case parkDone:
			c.produced[p.class]++
			if p.class == classFallback {
				c.redirected[p.why]++
			}
			if !pb.failed {
				// The partition answers again: back to short
				// backoffs, and a larger window next.
				pb.backoff = retryMinBackoff
				pb.window = min(2*pb.window, drainMaxWindow)
			}
		case parkDropped:
			c.dropped[p.reason]++
		default:
			kept = append(kept, p)
			continue
		}
		pb.bytes -= p.size
		bl.totalBytes -= p.size
	}
	clear(pb.queue[len(kept):])
	pb.queue = kept
}

// retryWait starts pb's backoff after a failed window (doubling the next,
// back to the smallest window) and returns how long it still has to wait.
func retryWait(pb *partitionBacklog, now time.Time) time.Duration {
	if pb.failed {
		pb.failed = false
		pb.retryAt = now.Add(pb.backoff)
		pb.backoff = min(2*pb.backoff, retryMaxBackoff)
		pb.window = drainMinWindow
	}
	return pb.retryAt.Sub(now)
}

// windowLocked marks pb's next window of records in flight, within its
// window, the drainer's in-flight bound and drainWindowBytes, and appends
// them to batch as fresh records.
func (bl *backlogs) windowLocked(pb *partitionBacklog, batch []*kgo.Record, c *stepCounts) []*kgo.Record {
	var bytes int64
	for _, p := range pb.queue {
		if pb.inflight >= pb.window || len(bl.inflight) >= bl.maxInflight ||
			(pb.inflight > 0 && bytes+p.size > drainWindowBytes) {
			break
		}
		if p.tries > 0 {
			c.resent++
		}
		p.tries++
		p.state = parkInflight
		bytes += p.size
		pb.inflight++
		// A fresh record: the client stamps it now, and its
		// delivery timeout counts from that stamp.
		r := p.rec
		*r = kgo.Record{Topic: r.Topic, Partition: r.Partition, Key: r.Key, Value: r.Value}
		bl.inflight[r] = p
		batch = append(batch, r)
	}
	return batch
}

// close drains the backlogs for as long as ctx allows, then counts what is
// left as dropped (reason shutdown) and stops the drainer.
func (bl *backlogs) close(ctx context.Context) {
	if bl.stop == nil {
		return
	}
	for {
		bl.mu.Lock()
		empty, changed := len(bl.parts) == 0, bl.changed
		bl.mu.Unlock()
		if empty {
			break
		}
		select {
		case <-changed:
			continue
		case <-ctx.Done():
		}
		break
	}
	bl.stop()
	<-bl.done
	bl.mu.Lock()
	var left, bytes int64
	for key, pb := range bl.parts {
		for _, p := range pb.queue {
			if p.state == parkWaiting || p.state == parkInflight {
				p.state = parkDropped
				left++
				bytes += p.size
			}
		}
		delete(bl.parts, key)
	}
	bl.closed = true
	bl.totalBytes = 0
	bl.mu.Unlock()
	if left > 0 {
		bl.e.tel.LogxKafkatopicsRecordsDropped.Add(context.Background(), left, bl.e.dropped[reasonShutdown])
		bl.e.logger.Error("kafkatopics: shutting down with records in partition backlogs that Kafka has not acknowledged; they are lost",
			zap.Int64("records", left), zap.Int64("bytes", bytes))
	}
}

// observe reports each backlog's records and bytes (at most max_partitions
// series each).
func (bl *backlogs) observe(o metric.Observer, records, bytes metric.Int64Observable) {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	for _, pb := range bl.parts {
		o.ObserveInt64(records, int64(len(pb.queue)), pb.attrs)
		o.ObserveInt64(bytes, pb.bytes, pb.attrs)
	}
}

// Guard uses: the fullest backlog, all of them, how many.
func (bl *backlogs) largestRecords() int64 {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	var n int
	for _, pb := range bl.parts {
		n = max(n, len(pb.queue))
	}
	return int64(n)
}

func (bl *backlogs) largestBytes() int64 {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	var n int64
	for _, pb := range bl.parts {
		n = max(n, pb.bytes)
	}
	return n
}

func (bl *backlogs) totalBytesUsed() int64 {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	return bl.totalBytes
}

func (bl *backlogs) partitionsUsed() int64 {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	return int64(len(bl.parts))
}

// partitionLabel names a partition in the gauges' attributes; "unknown"
// for records the client was to partition (the topic's partitions were
// not known yet when they were produced).
func partitionLabel(p int32) string {
	if p < 0 {
		return "unknown"
	}
	return strconv.Itoa(int(p))
}

// parkedOverhead is what a parked record costs beyond its key and value
// (the parked entry and its kgo.Record), counted against the byte bounds
// so that they bound memory, not only payload.
const parkedOverhead = 256

// recSize is what a record counts against the byte bounds.
func recSize(r *kgo.Record) int64 { return int64(len(r.Key)+len(r.Value)) + parkedOverhead }

// copyRecord copies a record of an export call (whose buffers are reused)
// into memory of its own, in one allocation for key and value.
func copyRecord(r *kgo.Record) *kgo.Record {
	buf := make([]byte, len(r.Key)+len(r.Value))
	n := copy(buf, r.Key)
	copy(buf[n:], r.Value)
	c := &kgo.Record{Topic: r.Topic, Partition: r.Partition, Value: buf[n:len(buf):len(buf)]}
	if r.Key != nil {
		c.Key = buf[:n:n]
	}
	return c
}
