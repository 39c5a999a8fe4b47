package kafkatopicsexporter

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-logx/otelcol-logx/exporter/kafkatopicsexporter/internal/metadata"
)

// metadataWatch records every topic name the cluster is asked about in a
// metadata request: the client names there every topic it produces to.
type metadataWatch struct {
	mu     sync.Mutex
	topics map[string]int
	named  int // metadata requests that named topics (not "all topics")
}

func watchMetadata(c *kfake.Cluster) *metadataWatch {
	w := &metadataWatch{topics: map[string]int{}}
	c.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		w.mu.Lock()
		defer w.mu.Unlock()
		mr := req.(*kmsg.MetadataRequest)
		if mr.Topics != nil {
			w.named++
		}
		for _, t := range mr.Topics {
			if t.Topic != nil {
				w.topics[*t.Topic]++
			}
		}
		return nil, nil, false
	})
	return w
}

func (w *metadataWatch) askedFor(prefix string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for t := range w.topics {
		if strings.HasPrefix(t, prefix) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

func (w *metadataWatch) namedRequests() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.named
}

// strictConfig is testConfig without auto-creation, with the delivery
// timeout of the tier-2 configs: a record for a missing topic would hold
// its call for up to that long.
func strictConfig(c *kfake.Cluster) *Config {
	cfg := testConfig(c)
	cfg.Producer.AllowAutoTopicCreation = false
	cfg.Producer.DeliveryTimeout = 10 * time.Second
	return cfg
}

// A batch mixing records for topics that exist and records naming topics
// that do not must not wait on the missing ones: those go straight to the
// fallback topic, counted, and their names never reach the client.
func TestUnknownTopicsDoNotStallTheBatch(t *testing.T) {
	c := newCluster(t, 2, kfake.SeedTopics(2, "logs-a", "logs-b", "logs-unrouted"))
	meta := watchMetadata(c)
	h := startExporter(t, strictConfig(c))

	var recs []rec
	for i := range 40 {
		switch i % 4 {
		case 0:
			recs = append(recs, rec{host: "h", service: "s", format: "a", seq: i})
		case 1:
			recs = append(recs, rec{host: "h", service: "s", format: "b", seq: i})
		default: // 20 records naming 10 topics that do not exist
			recs = append(recs, rec{host: "h", service: "s", format: fmt.Sprintf("nosuch-%d", i%10), seq: i})
		}
	}
	began := time.Now()
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(recs...)))
	took := time.Since(began)
	assert.Less(t, took, time.Second, "the batch waited on topics that do not exist")

	seqs := func(rs []*kgo.Record) []int {
		var out []int
		for _, r := range rs {
			out = append(out, seqOf(t, r))
		}
		slices.Sort(out)
		return out
	}
	assert.Equal(t, []int{0, 4, 8, 12, 16, 20, 24, 28, 32, 36}, seqs(consume(t, c, "logs-a", 10)))
	assert.Equal(t, []int{1, 5, 9, 13, 17, 21, 25, 29, 33, 37}, seqs(consume(t, c, "logs-b", 10)))
	unrouted := seqs(consume(t, c, "logs-unrouted", 20))
	assert.Len(t, unrouted, 20)
	for _, s := range unrouted {
		assert.GreaterOrEqual(t, s%4, 2, "only records of missing topics are in the fallback topic")
	}
	assert.Equal(t, int64(20), h.counter("otelcol_logx_kafkatopics_records_produced", map[string]string{"class": "data"}))
	assert.Equal(t, int64(20), h.counter("otelcol_logx_kafkatopics_records_produced", map[string]string{"class": "fallback"}))
	assert.Equal(t, int64(20), h.counter("otelcol_logx_kafkatopics_records_redirected", map[string]string{"reason": "unknown_topic"}))
	assert.Empty(t, meta.askedFor("logs-nosuch"), "the client was asked for topics that do not exist")
}

func TestTopicsNotAllowedGoToFallback(t *testing.T) {
	c := newCluster(t, 1, kfake.SeedTopics(1, "logs-a", "logs-bx", "logs-c", "logs-unrouted"))
	cfg := strictConfig(c)
	cfg.Topics.Allowed = []string{"logs-a", "logs-b*"}
	h := startExporter(t, cfg)

	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(
		rec{host: "h", service: "s", format: "a", seq: 1},
		rec{host: "h", service: "s", format: "bx", seq: 2},
		rec{host: "h", service: "s", format: "c", seq: 3}, // exists, not allowed
		rec{host: "h", service: "s", seq: 4},              // no format: unroutable
	)))
	assert.Equal(t, 1, seqOf(t, consume(t, c, "logs-a", 1)[0]))
	assert.Equal(t, 2, seqOf(t, consume(t, c, "logs-bx", 1)[0]))
	consume(t, c, "logs-unrouted", 2)
	assert.Equal(t, int64(0), topicEnd(t, c, "logs-c", 1))
	assert.Equal(t, int64(1), h.counter("otelcol_logx_kafkatopics_records_redirected", map[string]string{"reason": "not_allowed"}))
	assert.Equal(t, int64(1), h.counter("otelcol_logx_kafkatopics_records_redirected", map[string]string{"reason": "unroutable"}))
}

// Without a fallback topic a record for a missing topic cannot be
// delivered: it is dropped and counted, not retried forever.
func TestUnknownTopicWithoutFallbackIsDropped(t *testing.T) {
	c := newCluster(t, 1, kfake.SeedTopics(1, "logs-a"))
	cfg := strictConfig(c)
	cfg.Topics.Fallback = ""
	h := startExporter(t, cfg)

	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(
		rec{host: "h", service: "s", format: "a", seq: 1},
		rec{host: "h", service: "s", format: "nosuch", seq: 2},
	)))
	assert.Equal(t, 1, seqOf(t, consume(t, c, "logs-a", 1)[0]))
	assert.Equal(t, int64(1), h.counter("otelcol_logx_kafkatopics_records_dropped", map[string]string{"reason": "unknown_topic"}))
	assert.Equal(t, int64(1), h.counter("otelcol_logx_kafkatopics_records_produced", nil))
}

// A topic created on the cluster is used once the topics are read again.
func TestTopicCreatedLaterIsUsed(t *testing.T) {
	c := newCluster(t, 1, kfake.SeedTopics(1, "logs-unrouted"))
	cfg := strictConfig(c)
	cfg.Topics.RefreshInterval = time.Second
	h := startExporter(t, cfg)

	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(rec{host: "h", service: "s", format: "new", seq: 1})))
	assert.Equal(t, 1, seqOf(t, consume(t, c, "logs-unrouted", 1)[0]))

	createTopic(t, c, "logs-new")
	seq := 1
	require.Eventually(t, func() bool {
		seq++
		require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(rec{host: "h", service: "s", format: "new", seq: seq})))
		return topicEnd(t, c, "logs-new", 1) > 0
	}, 15*time.Second, 200*time.Millisecond, "records for the new topic still go to the fallback topic")
}

// A known topic deleted from the cluster fails its records with
// UNKNOWN_TOPIC_OR_PARTITION: they go to the fallback topic, the topic is
// forgotten (later records go straight to the fallback topic) and purged
// from the client, which stops asking the brokers about it.
func TestDeletedTopicIsForgottenAndPurged(t *testing.T) {
	c := newCluster(t, 1, kfake.SeedTopics(1, "logs-gone", "logs-unrouted"))
	meta := watchMetadata(c)
	cfg := strictConfig(c)
	// The client fails the records of a deleted topic only at the
	// delivery timeout: keep the test short.
	cfg.Producer.DeliveryTimeout = 2 * time.Second
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	e, err := newKafkaExporter(cfg, set)
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })
	require.True(t, e.known.has([]byte("logs-gone")))

	// Produced once while it exists: the client now holds the topic.
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(rec{host: "h", service: "s", format: "gone", seq: 1})))
	deleteTopic(t, c, "logs-gone")

	require.NoError(t, e.pushLogs(context.Background(), makeLogs(rec{host: "h", service: "s", format: "gone", seq: 2})))
	assert.Equal(t, 2, seqOf(t, consume(t, c, "logs-unrouted", 1)[0]))
	assert.False(t, e.known.has([]byte("logs-gone")), "a topic the brokers said is missing is still taken to exist")

	began := time.Now()
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(rec{host: "h", service: "s", format: "gone", seq: 3})))
	assert.Less(t, time.Since(began), time.Second, "a forgotten topic was tried again")
	consume(t, c, "logs-unrouted", 2)

	// The client no longer names the topic in its metadata requests.
	before := meta.topics["logs-gone"]
	named := meta.namedRequests()
	e.client.ForceMetadataRefresh()
	require.Eventually(t, func() bool { return meta.namedRequests() > named }, 10*time.Second, 10*time.Millisecond)
	meta.mu.Lock()
	after := meta.topics["logs-gone"]
	meta.mu.Unlock()
	assert.Equal(t, before, after, "the client still asks the brokers about a purged topic")
}

func TestKnownTopicsBounded(t *testing.T) {
	c := newCluster(t, 1, kfake.SeedTopics(1, "t1", "t2", "t3", "t4", "t5"))
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	require.NoError(t, err)
	defer cl.Close()

	k := knownTopics{max: 2}
	all := newAllowList(nil)
	left, err := k.refresh(context.Background(), cl, &all)
	require.NoError(t, err)
	assert.Equal(t, 3, left)
	assert.Len(t, *k.set.Load(), 2)

	// Topics the allow-list refuses take no room.
	k = knownTopics{max: 2}
	some := newAllowList([]string{"t2", "t4*"})
	left, err = k.refresh(context.Background(), cl, &some)
	require.NoError(t, err)
	assert.Equal(t, 0, left)
	assert.True(t, k.has([]byte("t2")))
	assert.True(t, k.has([]byte("t4")))
	assert.False(t, k.has([]byte("t1")))
}

func TestAllowList(t *testing.T) {
	a := newAllowList([]string{"logs-a", "dlq-*"})
	for topic, want := range map[string]bool{
		"logs-a": true, "logs-ab": false, "dlq-": true, "dlq-log-b": true, "dl": false, "": false,
	} {
		assert.Equal(t, want, a.permits([]byte(topic)), topic)
	}
	all := newAllowList([]string{"*"})
	assert.True(t, all.permits([]byte("anything")))
}

func createTopic(t *testing.T, c *kfake.Cluster, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, 1, 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	require.NoError(t, err)
	require.Zero(t, resp.Topics[0].ErrorCode)
}

func deleteTopic(t *testing.T, c *kfake.Cluster, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrDeleteTopicsRequest()
	rt := kmsg.NewDeleteTopicsRequestTopic()
	rt.Topic = &topic
	req.Topics = append(req.Topics, rt)
	req.TopicNames = append(req.TopicNames, topic)
	resp, err := req.RequestWith(context.Background(), cl)
	require.NoError(t, err)
	require.Zero(t, resp.Topics[0].ErrorCode)
}
