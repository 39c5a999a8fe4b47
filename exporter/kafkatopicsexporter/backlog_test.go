package kafkatopicsexporter

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/exporter/kafkatopicsexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The exporter's own choice of partition is Kafka's: murmur2 of the key,
// as franz-go's default partitioner (and the Java client) computes it.
func TestPartitionerMatchesKafkaHashing(t *testing.T) {
	p := newPartitioner(PartitionByKey)
	for _, n := range []int{1, 3, 6, 16} {
		tp := p.topic("t" + strconv.Itoa(n))
		assert.Equal(t, int32(-1), tp.pick(&kgo.Record{Key: []byte("k")}), "partition count not known yet")
		tp.Partition(&kgo.Record{Key: []byte("k"), Partition: -1}, n) // the client tells the count
		for i := range 500 {
			key := fmt.Sprintf("host-%d/svc-%d.service", i, i%7)
			want := kafkaPartition(key, n)
			require.Equal(t, want, tp.pick(&kgo.Record{Key: []byte(key)}), "key %s, %d partitions", key, n)
		}
	}
	// The client keeps the exporter's choice.
	tp := p.topic("t6")
	assert.Equal(t, 4, tp.Partition(&kgo.Record{Key: []byte("k"), Partition: 4}, 6))
	assert.Equal(t, int(kafkaPartition("k", 6)), tp.Partition(&kgo.Record{Key: []byte("k"), Partition: -1}, 6))
}

// rec helpers for one key.
func keyRecs(host string, from, to int) []rec {
	var out []rec
	for s := from; s <= to; s++ {
		out = append(out, rec{host: host, service: "s.service", format: "app", seq: s})
	}
	return out
}

// keyOn returns a host whose key (host/s.service) hashes to partition
// want (or, with not, to another one).
func keyOn(t *testing.T, want int32, not bool) string {
	t.Helper()
	for i := range 1000 {
		h := fmt.Sprintf("h%d", i)
		if (kafkaPartition(h+"/s.service", rigPartitions) == want) != not {
			return h
		}
	}
	t.Fatal("no such key")
	return ""
}

// seqsOf returns the sequence numbers of the records of key, in the order
// consumed (one key is one partition: its offset order).
func seqsOf(t *testing.T, recs []*kgo.Record, key string) []int {
	var out []int
	for _, r := range recs {
		if string(r.Key) == key {
			out = append(out, seqOf(t, r))
		}
	}
	return out
}

func span(from, to int) []int {
	var out []int
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// A full backlog hands back only the records it cannot hold, with a
// retriable error; records already in it or acknowledged are not sent
// again, and once the partition is back every record is there once, in
// order.
func TestBacklogFullHandsBackOnlyWhatItCannotHold(t *testing.T) {
	const failing = 2
	c, outage := newPartialCluster(t, failing)
	cfg := testConfig(c)
	cfg.PartitionBacklog.MaxRecords = 50
	// Long enough that the healthy partition always answers in time, also
	// under the race detector on a busy machine: at 100 ms it once did
	// not, and one of its records was counted backlogged (51, not 50).
	cfg.PartitionBacklog.FailingAfter = time.Second
	h := startExporter(t, cfg)
	bad, good := keyOn(t, failing, false), keyOn(t, failing, true)

	// Warm up: the client knows the topic's partitions.
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(append(keyRecs(bad, 1, 1), keyRecs(good, 1, 1)...)...)))
	consume(t, c, rigTopic, 2)
	outage.down.Store(true)

	// 30 for the failing partition: the call stops waiting for them, they
	// are the backlog's; the healthy key's are acknowledged.
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(append(keyRecs(bad, 2, 31), keyRecs(good, 2, 11)...)...)))
	// 40 more: 20 fit (50 in all), 20 come back.
	err := h.exp.ConsumeLogs(context.Background(), makeLogs(append(keyRecs(bad, 32, 71), keyRecs(good, 12, 21)...)...))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	var le consumererror.Logs
	require.ErrorAs(t, err, &le)
	back := le.Data()
	require.Equal(t, 20, back.LogRecordCount())
	first := back.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str()
	assert.Equal(t, "seq=52", first, "the records that did not fit are the last ones")
	assert.Equal(t, int64(20), h.counter("otelcol_logx_kafkatopics_records_retried", nil))
	assert.Equal(t, int64(50), h.counter("otelcol_logx_kafkatopics_records_backlogged", nil))
	assert.Equal(t, int64(50), h.gauge("otelcol_logx_kafkatopics_backlog_records"))
	// The healthy partition was not held: its records are in Kafka now.
	assert.Equal(t, span(1, 21), seqsOf(t, consume(t, c, rigTopic, 22), good+"/s.service"))

	outage.down.Store(false)
	testutil.WaitFor(t, 30*time.Second, "the backlog to drain", func() bool {
		return h.gauge("otelcol_logx_kafkatopics_backlog_records") == 0
	})
	// What came back is sent again, as exporterhelper's retry would.
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), back))
	got := consume(t, c, rigTopic, 71+21)
	assert.Equal(t, span(1, 71), seqsOf(t, got, bad+"/s.service"), "each record once, in order")
	assert.Equal(t, int64(71+21), topicEnd(t, c, rigTopic, rigPartitions), "nothing twice")
	assert.Zero(t, h.counter("otelcol_logx_kafkatopics_records_dropped", nil))
}

// Policy redirect: while a partition has a backlog, new records of its
// keys go to another partition, counted; they are no longer behind the
// backlog (order per key is given up for them).
func TestRedirectPolicyMovesRecordsToAnotherPartition(t *testing.T) {
	const failing = 4
	c, outage := newPartialCluster(t, failing)
	cfg := testConfig(c)
	cfg.PartitionBacklog.Policy = BacklogRedirect
	cfg.PartitionBacklog.FailingAfter = 100 * time.Millisecond
	h := startExporter(t, cfg)
	bad := keyOn(t, failing, false)
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(keyRecs(bad, 1, 1)...)))
	consume(t, c, rigTopic, 1)
	outage.down.Store(true)

	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(keyRecs(bad, 2, 11)...)))  // left to the backlog
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(keyRecs(bad, 12, 21)...))) // redirected
	assert.Equal(t, int64(10), h.counter("otelcol_logx_kafkatopics_records_redirected", map[string]string{"reason": "partition_failing"}))
	for _, r := range consume(t, c, rigTopic, 1+10) {
		if seqOf(t, r) >= 12 {
			assert.NotEqual(t, int32(failing), r.Partition, "seq %d", seqOf(t, r))
		} else {
			assert.Equal(t, 1, seqOf(t, r), "only the first record is in Kafka before the partition is back")
		}
	}

	outage.down.Store(false)
	got := consume(t, c, rigTopic, 21)
	assert.ElementsMatch(t, span(1, 21), seqsOf(t, got, bad+"/s.service"))
}

// At shutdown, a backlog the partition did not take in time is counted
// as dropped (reason shutdown) and logged, not lost silently.
func TestShutdownCountsWhatTheBacklogStillHolds(t *testing.T) {
	const failing = 1
	c, outage := newPartialCluster(t, failing)
	cfg := testConfig(c)
	cfg.PartitionBacklog.FailingAfter = 100 * time.Millisecond
	cfg.Producer.DeliveryTimeout = time.Second
	cfg.Timeout = time.Second // also bounds the drain at shutdown
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	e, err := newKafkaExporter(cfg, set)
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	h := &harness{tel: tel}
	bad := keyOn(t, failing, false)
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(keyRecs(bad, 1, 1)...)))
	outage.down.Store(true)

	require.NoError(t, e.pushLogs(context.Background(), makeLogs(keyRecs(bad, 2, 8)...)))
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(keyRecs(bad, 9, 12)...)))
	assert.Equal(t, int64(11), h.counter("otelcol_logx_kafkatopics_records_backlogged", nil))
	m, err := tel.GetMetric(guard.MetricUtilization)
	require.NoError(t, err, "the backlog caps are reported as guards")
	assert.NotEmpty(t, m.Data)

	require.NoError(t, e.shutdown(context.Background()))
	assert.Equal(t, int64(11), h.counter("otelcol_logx_kafkatopics_records_dropped", map[string]string{"reason": "shutdown"}))
	_, err = tel.GetMetric(guard.MetricUtilization)
	assert.Error(t, err, "guards unregistered at shutdown")
}

// Without backlogs (partition_backlog.enabled: false) the guards say so.
func TestBacklogDisabledIsVisible(t *testing.T) {
	c := newCluster(t, 1)
	cfg := testConfig(c)
	cfg.PartitionBacklog.Enabled = false
	h := startExporter(t, cfg)
	m, err := h.tel.GetMetric(guard.MetricDisabled)
	require.NoError(t, err)
	off := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
		g, _ := dp.Attributes.Value("guard")
		off[g.AsString()] = dp.Value
	}
	assert.Equal(t, map[string]int64{
		"partition_backlog.max_records": 1, "partition_backlog.max_bytes": 1,
		"partition_backlog.max_total_bytes": 1, "partition_backlog.max_partitions": 1,
		// testConfig lets the producer create topics: any name a record
		// renders is produced to, so the known-topic guard is off too.
		"topics.known_only": 1, "topics.max_known": 1,
	}, off)
}

// A partition whose leader answers with a retriable error (not enough
// replicas) until the client's delivery timeout: the failed records go to
// the partition's backlog, the call succeeds, and the backlog produces
// them again, in order, once the partition takes records.
func TestFailedRecordsAreResentFromTheBacklogInOrder(t *testing.T) {
	const failing = 3
	c := newCluster(t, rigPartitions, kfake.SeedTopics(rigPartitions, rigTopic))
	cfg := testConfig(c)
	cfg.Producer.DeliveryTimeout = time.Second
	cfg.PartitionBacklog.FailingAfter = 5 * time.Second // the errors come first
	h := startExporter(t, cfg)
	bad, good := keyOn(t, failing, false), keyOn(t, failing, true)
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(keyRecs(bad, 1, 1)...)))
	consume(t, c, rigTopic, 1)

	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: rigTopic, Partitions: []int32{failing}, Err: kerr.NotEnoughReplicas, Count: -1})
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(append(keyRecs(bad, 2, 21), keyRecs(good, 1, 10)...)...)))
	assert.Equal(t, int64(20), h.counter("otelcol_logx_kafkatopics_records_backlogged", nil))
	assert.Equal(t, span(1, 10), seqsOf(t, consume(t, c, rigTopic, 11), good+"/s.service"))
	// Records behind the backlog wait there too.
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(keyRecs(bad, 22, 30)...)))
	assert.Equal(t, int64(29), h.counter("otelcol_logx_kafkatopics_records_backlogged", nil))

	fault.Remove()
	got := consume(t, c, rigTopic, 30+10)
	assert.Equal(t, span(1, 30), seqsOf(t, got, bad+"/s.service"))
	// The drainer settles the backlog (its gauge, then its counts) after
	// Kafka's answer, which may come after the consumer saw the records.
	testutil.WaitFor(t, 30*time.Second, "the backlog to drain and its records counted", func() bool {
		return h.gauge("otelcol_logx_kafkatopics_backlog_records") == 0 &&
			h.counter("otelcol_logx_kafkatopics_records_produced", nil) == 30+10
	})
	// Every record the export call had produced and Kafka failed is
	// resent, whether the fault was still there at the drainer's first
	// try or not; the nine that only waited behind them are not.
	assert.GreaterOrEqual(t, h.counter("otelcol_logx_kafkatopics_records_resent", nil), int64(20))
}
