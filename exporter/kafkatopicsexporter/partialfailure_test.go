package kafkatopicsexporter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The partial-failure rig: a topic of 6 partitions on two brokers, the
// leader of one partition alone on the second broker, whose produce
// requests fail (the connection is closed: the leader is unreachable)
// while down is set. Every other request, and every other partition,
// is served as usual.
const (
	rigTopic      = "logs-app"
	rigPartitions = 6
	rigFailNode   = 1
)

type partitionOutage struct {
	down    atomic.Bool
	refused atomic.Int64
}

// newPartialCluster starts the cluster with failing led by rigFailNode and
// every other partition by node 0.
func newPartialCluster(t *testing.T, failing int32) (*kfake.Cluster, *partitionOutage) {
	t.Helper()
	c := newCluster(t, rigPartitions, kfake.NumBrokers(2), kfake.SeedTopics(rigPartitions, rigTopic, "logs-unrouted"))
	for p := range int32(rigPartitions) {
		node := int32(0)
		if p == failing {
			node = rigFailNode
		}
		require.NoError(t, c.MoveTopicPartition(rigTopic, p, node))
		require.Equal(t, node, c.LeaderFor(rigTopic, p))
	}
	o := &partitionOutage{}
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !o.down.Load() || c.CurrentNode() != rigFailNode {
			return nil, nil, false // served as usual
		}
		o.refused.Add(1)
		return nil, errors.New("partition leader unreachable"), true // closes the connection
	})
	return c, o
}

// rigKey is the key of host h, service s, as the default key template
// renders it.
func rigKey(h, s int) string { return fmt.Sprintf("host-%02d/svc-%d.service", h, s) }

// kafkaPartition is where Kafka's default partitioner puts key.
func kafkaPartition(key string, n int) int32 {
	return int32(kgo.StickyKeyPartitioner(nil).ForTopic("").Partition(&kgo.Record{Key: []byte(key)}, n))
}

// keyedLogs builds one batch: for each (host, service) index in order, one
// record with the next sequence number of that key; one resource per host.
func keyedLogs(order [][2]int, seq map[[2]int]int) plog.Logs {
	ld := plog.NewLogs()
	var byHost [64]plog.LogRecordSlice
	var have [64]bool
	for _, hs := range order {
		if !have[hs[0]] {
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr(logattr.HostName, rigHosts[hs[0]])
			byHost[hs[0]], have[hs[0]] = rl.ScopeLogs().AppendEmpty().LogRecords(), true
		}
		seq[hs]++
		lr := byHost[hs[0]].AppendEmpty()
		lr.Body().SetStr("seq=" + strconv.Itoa(seq[hs]))
		lr.Attributes().PutStr(logattr.Service, rigServices[hs[1]])
		lr.Attributes().PutStr(logattr.CFJS1Format, "app")
	}
	return ld
}

var rigHosts, rigServices = func() (h, s []string) {
	for i := range 64 {
		h = append(h, fmt.Sprintf("host-%02d", i))
		s = append(s, fmt.Sprintf("svc-%d.service", i))
	}
	return h, s
}()

// tier2Queue is the tier-2 configs' sending queue, in memory: one export
// call at a time, batches of 1000 to 10000 records.
func tier2Queue(cfg *Config) {
	q := exporterhelper.NewDefaultQueueConfig()
	q.NumConsumers = 1
	q.Sizer = exporterhelper.RequestSizerTypeItems
	q.QueueSize = 5_000_000
	q.Batch = configoptional.Some(exporterhelper.BatchConfig{
		FlushTimeout: 10 * time.Millisecond, Sizer: exporterhelper.RequestSizerTypeItems, MinSize: 1000, MaxSize: 10000,
	})
	cfg.QueueConfig = configoptional.Some(q)
	cfg.RetryConfig.Enabled = true
	cfg.RetryConfig.InitialInterval = 50 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 200 * time.Millisecond
	cfg.RetryConfig.MaxElapsedTime = 0
	cfg.Producer.Linger = 0
}

// gauge sums an Int64 gauge's points (0 when it has none).
func (h *harness) gauge(name string) int64 {
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var total int64
	for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
		total += dp.Value
	}
	return total
}

// One of six partitions cannot be produced to for a while, as records come
// at a fixed rate through the tier-2 queue (one export call at a time).
// The five others keep their throughput, the failing partition's records
// wait in its backlog and follow once it is back, nothing is lost, and
// each key's records are in order in its partition.
//
// Short: 20,000 records/s for 10 s, the partition failing for 5 s.
// LOGX_RESILIENCE=full: the partition failing for 60 s of 70. Under the
// race detector, which slows the whole process (sender, exporter and
// cluster share two cores with other work) below 20,000 records/s, the
// rate is 5,000 records/s: the throughput compared is then the exporter's,
// not what CPU was left.
func TestPartialFailureStaysPartial(t *testing.T) {
	const (
		tick     = 10 * time.Millisecond
		hosts    = 8
		services = 6
	)
	rate := 20_000
	if raceEnabled {
		rate = 5_000
	}
	perTick := rate * int(tick) / int(time.Second)
	before, failFor, after := 2500*time.Millisecond, 5*time.Second, 2500*time.Millisecond
	if os.Getenv("LOGX_RESILIENCE") == "full" {
		before, failFor, after = 5*time.Second, 60*time.Second, 5*time.Second
	}
	keys := make([][2]int, 0, hosts*services)
	partOf := map[string]int32{}
	for h := range hosts {
		for s := range services {
			keys = append(keys, [2]int{h, s})
			partOf[rigKey(h, s)] = kafkaPartition(rigKey(h, s), rigPartitions)
		}
	}
	failing := partOf[rigKey(0, 0)]
	c, outage := newPartialCluster(t, failing)
	cfg := testConfig(c)
	tier2Queue(cfg)
	h := startExporter(t, cfg)

	// The fixed-rate sender: every tick sends what is due by the clock
	// (so a slow tick is made up), for a bounded number of ticks; the
	// outage starts and ends at tick counts. What was offered in each
	// window is counted, to compare with what Kafka took.
	seq := map[[2]int]int{}
	ticks := int((before + failFor + after) / tick)
	failStartTick, failEndTick := int(before/tick), int((before+failFor)/tick)
	var failStart, failEnd time.Time
	offered := map[bool]map[string]int{true: {}, false: {}} // healthy? -> window -> records
	var maxBacklog int64
	var drained time.Duration // after the failure, until the backlog was empty
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	start := time.Now()
	next, total := 0, 0
	for i := range ticks {
		switch i {
		case failStartTick:
			failStart = time.Now()
			outage.down.Store(true)
		case failEndTick:
			failEnd = time.Now()
			outage.down.Store(false)
		}
		due := min(int(time.Since(start).Seconds()*float64(rate))+perTick, (i+1)*perTick) - total
		if due <= 0 {
			<-ticker.C
			continue
		}
		order := make([][2]int, due)
		window := phase(i, failStartTick, failEndTick)
		for j := range order {
			order[j] = keys[next%len(keys)]
			next++
			offered[partOf[rigKey(order[j][0], order[j][1])] != failing][window]++
		}
		total += due
		require.NoError(t, h.exp.ConsumeLogs(context.Background(), keyedLogs(order, seq)))
		switch {
		case i%50 == 0 && window == "failure":
			maxBacklog = max(maxBacklog, h.gauge("otelcol_logx_kafkatopics_backlog_records"))
		case i%5 == 0 && window == "after" && drained == 0:
			if h.gauge("otelcol_logx_kafkatopics_backlog_records") == 0 {
				drained = time.Since(failEnd)
			}
		}
		<-ticker.C
	}
	sent := time.Since(start)

	// Everything arrives: every key's every sequence number.
	type rk struct {
		key string
		seq int
	}
	seen := map[rk]bool{}
	read := 0
	got := consumeUntil(t, c, rigTopic, func(got []*kgo.Record) bool {
		for _, r := range got[read:] {
			seen[rk{string(r.Key), seqOf(t, r)}] = true
		}
		read = len(got)
		return len(seen) == total
	})
	testutil.WaitFor(t, 30*time.Second, "the backlog to drain", func() bool {
		return h.gauge("otelcol_logx_kafkatopics_backlog_records") == 0
	})
	if drained == 0 {
		drained = time.Since(failEnd)
	}

	// Order: per partition (offset order), each key strictly increasing;
	// a repeat of a sequence already seen is an at-least-once duplicate.
	last := map[string]int{}
	got2 := map[string]map[int]bool{}
	dups := 0
	for _, r := range got {
		k, s := string(r.Key), seqOf(t, r)
		require.Equal(t, partOf[k], r.Partition, "key %s produced to partition %d, not its own", k, r.Partition)
		if got2[k] == nil {
			got2[k] = map[int]bool{}
		}
		switch {
		case s > last[k]:
			last[k] = s
		case got2[k][s]:
			dups++
		default:
			t.Fatalf("key %s: record %d after %d, never seen before: out of order", k, s, last[k])
		}
		got2[k][s] = true
	}

	// Throughput of the healthy partitions: records Kafka took (their
	// timestamps are when the exporter produced them) per second, before
	// and during the failure, next to what was offered then.
	produced := map[bool]map[string]int{true: {}, false: {}}
	var healthyStamps []time.Time
	for _, r := range got {
		w := "before"
		switch {
		case r.Timestamp.Before(failStart):
		case r.Timestamp.Before(failEnd):
			w = "failure"
		default:
			w = "after"
		}
		produced[r.Partition != failing][w]++
		if r.Partition != failing && w == "failure" {
			healthyStamps = append(healthyStamps, r.Timestamp)
		}
	}
	slices.SortFunc(healthyStamps, func(a, b time.Time) int { return a.Compare(b) })
	gap := failFor
	if len(healthyStamps) > 0 {
		gap = max(healthyStamps[0].Sub(failStart), failEnd.Sub(healthyStamps[len(healthyStamps)-1]))
		for i := 1; i < len(healthyStamps); i++ {
			gap = max(gap, healthyStamps[i].Sub(healthyStamps[i-1]))
		}
	}
	beforeDur, failDur := failStart.Sub(start).Seconds(), failEnd.Sub(failStart).Seconds()
	normal := float64(produced[true]["before"]) / beforeDur
	during := float64(produced[true]["failure"]) / failDur
	t.Logf("sent %d records in %s (%.0f/s); partition %d failing for %.1fs, %d produce requests refused",
		total, sent.Round(time.Millisecond), float64(total)/sent.Seconds(), failing, failDur, outage.refused.Load())
	t.Logf("healthy partitions: offered %.0f/s before, %.0f/s during; produced %.0f/s before, %.0f/s during (%.1f%%); longest pause %s",
		float64(offered[true]["before"])/beforeDur, float64(offered[true]["failure"])/failDur, normal, during, 100*during/normal, gap.Round(time.Millisecond))
	t.Logf("failing partition: offered %d during the failure, produced %d then, %d after; backlog peak seen %d records, empty %s after the failure; backlogged %d, resent %d, duplicates %d",
		offered[false]["failure"], produced[false]["failure"], produced[false]["after"], maxBacklog, drained.Round(10*time.Millisecond),
		h.counter("otelcol_logx_kafkatopics_records_backlogged", nil), h.counter("otelcol_logx_kafkatopics_records_resent", nil), dups)

	require.Positive(t, outage.refused.Load(), "the partition never failed")
	// At a fixed rate, normal throughput is what is offered: the healthy
	// partitions keep within 10% of it (compared with the same window's
	// offer, as the sender shares the CPU), and never pause for long.
	offeredDuring := float64(offered[true]["failure"]) / failDur
	assert.GreaterOrEqual(t, during, 0.9*offeredDuring, "the healthy partitions slowed down with one failing")
	assert.Less(t, gap, 2*time.Second, "the healthy partitions paused")
	assert.Positive(t, maxBacklog, "the failing partition's records were not in its backlog")
	assert.Positive(t, h.counter("otelcol_logx_kafkatopics_records_backlogged", nil))
	assert.Zero(t, h.counter("otelcol_logx_kafkatopics_records_dropped", nil))
	assert.Zero(t, h.counter("otelcol_logx_kafkatopics_records_retried", nil), "the backlog was never full: nothing goes back upstream")
}

func phase(i, failStart, failEnd int) string {
	switch {
	case i < failStart:
		return "before"
	case i < failEnd:
		return "failure"
	default:
		return "after"
	}
}
