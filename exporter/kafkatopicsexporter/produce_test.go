package kafkatopicsexporter

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

func TestTopicRouting(t *testing.T) {
	c := newCluster(t, 2)
	h := startExporter(t, testConfig(c))

	ld := makeLogs(
		rec{host: "h1", service: "nginx.service", format: "nginx", seq: 1},
		rec{host: "h1", service: "pg.service", format: "postgres", seq: 2},
		rec{host: "h2", service: "nginx.service", format: "nginx", seq: 3},
		rec{host: "h2", service: "x.service", seq: 4},                       // no format: fallback topic
		rec{host: "h2", service: "y.service", format: "we/ird fmt", seq: 5}, // escaped into a valid name
	)
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))

	nginx := consume(t, c, "logs-nginx", 2)
	assert.ElementsMatch(t, []int{1, 3}, []int{seqOf(t, nginx[0]), seqOf(t, nginx[1])})
	pg := consume(t, c, "logs-postgres", 1)
	assert.Equal(t, 2, seqOf(t, pg[0]))
	unrouted := consume(t, c, "logs-unrouted", 1)
	assert.Equal(t, 4, seqOf(t, unrouted[0]))
	weird := consume(t, c, "logs-we_ird_fmt", 1)
	assert.Equal(t, 5, seqOf(t, weird[0]))

	// The value is the cfjs1 line (no newline) and decodes back to the record.
	v := pg[0].Value
	assert.False(t, strings.HasSuffix(string(v), "\n"))
	out := plog.NewLogs()
	rl := out.ResourceLogs().AppendEmpty()
	sl := rl.ScopeLogs().AppendEmpty()
	lr := sl.LogRecords().AppendEmpty()
	meta, err := cfjs1.Decode(v, nil, cfjs1.Target{Resource: rl.Resource(), Scope: sl.Scope(), Record: lr})
	require.NoError(t, err)
	assert.Equal(t, "postgres", meta.Format)
	assert.Equal(t, "seq=2", lr.Body().Str())
	host, _ := rl.Resource().Attributes().Get(logattr.HostName)
	assert.Equal(t, "h1", host.Str())
	// The key is host + service.
	assert.Equal(t, "h1/pg.service", string(pg[0].Key))

	assert.Equal(t, int64(4), h.counter("otelcol_logx_kafkatopics_records_produced", map[string]string{"class": "data"}))
	assert.Equal(t, int64(1), h.counter("otelcol_logx_kafkatopics_records_produced", map[string]string{"class": "fallback"}))
	assert.Equal(t, int64(2), topicEnd(t, c, "logs-nginx", 2), "nothing else in logs-nginx")
}

func TestDeadLetterRouting(t *testing.T) {
	c := newCluster(t, 2)
	cfg := testConfig(c)
	cfg.Topics.DeadLetter = "dlq-{cfjs1.dead_letter_for}"
	h := startExporter(t, cfg)

	ld := makeLogs(
		rec{host: "h1", service: "a.service", format: "nginx", seq: 1},
		rec{host: "h1", service: "a.service", format: "nginx", seq: 2, deadLetterFor: "log-b"},
		rec{host: "h1", service: "a.service", format: "syslog", seq: 3, deadLetterFor: "log-b"},
	)
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))

	dlq := consume(t, c, "dlq-log-b", 2)
	seqs := []int{seqOf(t, dlq[0]), seqOf(t, dlq[1])}
	assert.Equal(t, []int{2, 3}, seqs, "one key, one partition: in order")
	for _, r := range dlq {
		assert.Contains(t, string(r.Value), `"dead_letter_for":"log-b"`, "the copy keeps its marker")
	}
	data := consume(t, c, "logs-nginx", 1)
	assert.Equal(t, 1, seqOf(t, data[0]))
	assert.Equal(t, int64(1), topicEnd(t, c, "logs-nginx", 2), "the dead-letter copy is not in the data topic")
	assert.Equal(t, int64(0), topicEnd(t, c, "logs-syslog", 2))
	assert.Equal(t, int64(2), h.counter("otelcol_logx_kafkatopics_records_produced", map[string]string{"class": "dead_letter"}))
}

// Records of one host+service must land in one partition, in the order
// they were given, across many export calls, while other keys interleave.
func TestPartitionKeyOrdering(t *testing.T) {
	const partitions, hosts, services, perKey, calls = 8, 4, 4, 50, 5
	c := newCluster(t, partitions)
	h := startExporter(t, testConfig(c))

	seq := map[string]int{}
	for range calls {
		var recs []rec
		for i := range perKey / calls {
			for hi := range hosts {
				for si := range services {
					k := fmt.Sprintf("host-%d/svc-%d.service", hi, si)
					seq[k]++
					recs = append(recs, rec{host: fmt.Sprintf("host-%d", hi), service: fmt.Sprintf("svc-%d.service", si), format: "app", seq: seq[k]})
					_ = i
				}
			}
		}
		require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(recs...)))
	}

	got := consume(t, c, "logs-app", hosts*services*perKey)
	partOf := map[string]int32{}
	last := map[string]int{}
	used := map[int32]bool{}
	for _, r := range got {
		k := string(r.Key)
		if p, ok := partOf[k]; ok {
			require.Equal(t, p, r.Partition, "key %s split over partitions", k)
		}
		partOf[k] = r.Partition
		used[r.Partition] = true
	}
	// Order is per partition: sort by (partition, offset) is what a
	// consumer sees; kgo returns each partition in offset order.
	for _, r := range got {
		k := string(r.Key)
		s := seqOf(t, r)
		require.Equal(t, last[k]+1, s, "key %s: record %d after %d", k, s, last[k])
		last[k] = s
	}
	assert.Len(t, partOf, hosts*services)
	assert.Greater(t, len(used), 1, "16 keys should use more than one of 8 partitions")
}

// balanced mode spreads one hot key over the partitions; its key is still
// on the record.
func TestBalancedSpreadsHotKey(t *testing.T) {
	const partitions = 4
	c := newCluster(t, partitions)
	cfg := testConfig(c)
	cfg.Partition.Mode = PartitionBalance
	cfg.Producer.Compression = "none"
	h := startExporter(t, cfg)

	body := strings.Repeat("x", 2000)
	for call := range 20 {
		recs := make([]rec, 100)
		for i := range recs {
			recs[i] = rec{host: "hot", service: "hot.service", format: "app", seq: call*100 + i, body: fmt.Sprintf("seq=%d %s", call*100+i, body)}
		}
		require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(recs...)))
	}
	got := consume(t, c, "logs-app", 2000)
	used := map[int32]int{}
	for _, r := range got {
		used[r.Partition]++
		require.Equal(t, "hot/hot.service", string(r.Key))
	}
	assert.Greater(t, len(used), 1, "a hot key in balanced mode uses several partitions: %v", used)
}

func TestOversizedRecordDroppedBeforeProducing(t *testing.T) {
	c := newCluster(t, 1)
	cfg := testConfig(c)
	cfg.Producer.MaxMessageBytes = 1000
	h := startExporter(t, cfg)

	big := strings.Repeat("b", 5000)
	ld := makeLogs(
		rec{host: "h", service: "s", format: "app", seq: 1},
		rec{host: "h", service: "s", format: "app", seq: 2, body: "seq=2 " + big},
		rec{host: "h", service: "s", format: "app", seq: 3},
	)
	// Mixed: the small records are produced; the call succeeds.
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
	got := consume(t, c, "logs-app", 2)
	assert.Equal(t, []int{1, 3}, []int{seqOf(t, got[0]), seqOf(t, got[1])})
	assert.Equal(t, int64(1), h.counter("otelcol_logx_kafkatopics_records_dropped", map[string]string{"reason": "too_large"}))

	// Only oversized: a permanent error, so exporterhelper never retries.
	err := h.exp.ConsumeLogs(context.Background(), makeLogs(rec{host: "h", service: "s", format: "app", seq: 4, body: big}))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err), "got %v", err)
	assert.Equal(t, int64(2), h.counter("otelcol_logx_kafkatopics_records_dropped", map[string]string{"reason": "too_large"}))
	assert.Equal(t, int64(2), topicEnd(t, c, "logs-app", 1))
}

// The broker's limit is lower than ours: the broker answers
// MESSAGE_TOO_LARGE, and the record is dropped, not retried.
func TestOversizedRecordRefusedByBroker(t *testing.T) {
	c := newCluster(t, 1, kfake.BrokerConfigs(map[string]string{"message.max.bytes": "4096"}))
	cfg := testConfig(c)
	cfg.Producer.Compression = "none"
	cfg.RetryConfig.Enabled = true // must not matter: the error is permanent
	h := startExporter(t, cfg)

	err := h.exp.ConsumeLogs(context.Background(), makeLogs(rec{host: "h", service: "s", format: "app", seq: 1, body: strings.Repeat("z", 10000)}))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err), "got %v", err)
	assert.Equal(t, int64(1), h.counter("otelcol_logx_kafkatopics_records_dropped", map[string]string{"reason": "rejected_too_large"}))
	assert.Equal(t, int64(0), h.counter("otelcol_logx_kafkatopics_records_retried", nil))

	// The exporter still works for records that fit.
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(rec{host: "h", service: "s", format: "app", seq: 2})))
	got := consume(t, c, "logs-app", 1)
	assert.Equal(t, 2, seqOf(t, got[0]))
}

func TestOTLPEncodings(t *testing.T) {
	for _, enc := range []Encoding{EncodingOTLPJSON, EncodingOTLPProto} {
		t.Run(string(enc), func(t *testing.T) {
			c := newCluster(t, 1)
			cfg := testConfig(c)
			cfg.Encoding = enc
			h := startExporter(t, cfg)
			require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(
				rec{host: "h1", service: "s", format: "app", seq: 1},
				rec{host: "h2", service: "s", format: "app", seq: 2},
			)))
			got := consume(t, c, "logs-app", 2)
			var u plog.Unmarshaler = &plog.ProtoUnmarshaler{}
			if enc == EncodingOTLPJSON {
				u = &plog.JSONUnmarshaler{}
			}
			for i, r := range got {
				ld, err := u.UnmarshalLogs(r.Value)
				require.NoError(t, err)
				require.Equal(t, 1, ld.LogRecordCount(), "one record per message")
				host, _ := ld.ResourceLogs().At(0).Resource().Attributes().Get(logattr.HostName)
				assert.Equal(t, fmt.Sprintf("h%d", i+1), host.Str())
				assert.Equal(t, fmt.Sprintf("seq=%d", i+1), ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
			}
		})
	}
}

// Without partition backlogs, a retriable broker error hands back exactly
// the records not produced (with them, the records wait in their
// partition's backlog: TestFailedRecordsAreResentFromTheBacklogInOrder).
func TestRetriableErrorReturnsOnlyUnproducedRecords(t *testing.T) {
	c := newCluster(t, 1)
	cfg := testConfig(c)
	cfg.PartitionBacklog.Enabled = false
	cfg.Producer.DeliveryTimeout = time.Second
	h := startExporter(t, cfg)
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(rec{host: "h", service: "s", format: "good", seq: 0})))
	consume(t, c, "logs-good", 1)

	// Every produce to topic "logs-bad" fails with a retriable error.
	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "logs-bad", Err: kerr.NotEnoughReplicas, Count: -1})
	ld := makeLogs(
		rec{host: "h", service: "s", format: "good", seq: 1},
		rec{host: "h", service: "s", format: "bad", seq: 2},
		rec{host: "h", service: "s", format: "good", seq: 3},
	)
	err := h.exp.ConsumeLogs(context.Background(), ld)
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	var le consumererror.Logs
	require.ErrorAs(t, err, &le)
	left := le.Data()
	require.Equal(t, 1, left.LogRecordCount())
	assert.Equal(t, "seq=2", left.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
	consume(t, c, "logs-good", 3)
	assert.Equal(t, int64(1), h.counter("otelcol_logx_kafkatopics_records_retried", nil))
	fault.Remove()
}

// A topic that does not exist is not retried forever: its records go to
// the fallback topic.
func TestMissingTopicGoesToFallback(t *testing.T) {
	c := newCluster(t, 1, kfake.SeedTopics(1, "logs-known", "logs-unrouted"))
	cfg := testConfig(c)
	cfg.Brokers = []string{strings.Join(c.ListenAddrs(), ",")} // one entry, comma-separated
	cfg.Producer.AllowAutoTopicCreation = false
	h := startExporter(t, cfg)

	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(
		rec{host: "h", service: "s", format: "known", seq: 1},
		rec{host: "h", service: "s", format: "nosuch", seq: 2},
	)))
	assert.Equal(t, 1, seqOf(t, consume(t, c, "logs-known", 1)[0]))
	assert.Equal(t, 2, seqOf(t, consume(t, c, "logs-unrouted", 1)[0]))
	assert.Equal(t, int64(1), h.counter("otelcol_logx_kafkatopics_records_produced", map[string]string{"class": "fallback"}))
}
