package fanoutconnector

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pipeline"

	"github.com/otelcol-logx/otelcol-logx/connector/fanoutconnector/internal/metadata"
)

// A destination that refuses must not make the other one receive the same
// batch again: the collector's own fan-out returns the refusal, the
// receiver retries the batch, and the destination that took it gets it
// once per retry. Here every batch reaches the accepting destination
// exactly once, the call succeeds, and the refusing destination gets every
// batch, in order, once it accepts again.
func TestRefusingDestinationDoesNotRepeatOthers(t *testing.T) {
	down := &testDest{}
	down.mode.Store(refuse)
	local := &consumertest.LogsSink{}
	r := newRig(t, testConfig(fastRetry), map[string]consumer.Logs{"remote": down, "local": local})

	for _, id := range ids("b", 1, 20) {
		require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch(id, 3, 0)))
	}
	require.Len(t, local.AllLogs(), 20, "the accepting destination got each batch once")
	for i, ld := range local.AllLogs() {
		require.Equal(t, fmt.Sprintf("b%d", i+1), batchID(ld))
	}
	require.Empty(t, down.taken())
	require.Equal(t, int64(60), r.metric("otelcol_logx_fanout_backlogged_records", "destination", "logs/remote"))
	require.Eventually(t, func() bool { return r.metric("otelcol_logx_fanout_retries", "destination", "logs/remote") > 0 },
		20*time.Second, time.Millisecond, "the backlog is retried in the background")

	down.mode.Store(accept)
	r.waitFor(60, "otelcol_logx_fanout_backlog_delivered_records", "destination", "logs/remote")
	require.Equal(t, ids("b", 1, 20), down.taken(), "the backlog is delivered in order")
	require.Equal(t, int64(0), r.metric("otelcol_logx_fanout_dropped_records"))
	require.Equal(t, int64(0), r.metric("otelcol_logx_fanout_backlogged_records", "destination", "logs/local"))
	require.Len(t, local.AllLogs(), 20)
}

// When every destination refuses, nothing was delivered anywhere: the
// error goes back (retryable, so the receiver keeps the batch) and the
// connector keeps nothing, so the retry reaches each destination once.
func TestEveryDestinationRefusingReturnsTheError(t *testing.T) {
	a, b := &testDest{}, &testDest{}
	a.mode.Store(refuse)
	b.mode.Store(refuse)
	r := newRig(t, testConfig(fastRetry), map[string]consumer.Logs{"a": a, "b": b})

	ld := newBatch("b1", 2, 0)
	err := r.conn.ConsumeLogs(context.Background(), ld)
	require.ErrorIs(t, err, errDown)
	require.False(t, consumererror.IsPermanent(err), "a retryable refusal must stay retryable")
	require.Equal(t, int64(0), r.metric("otelcol_logx_fanout_backlogged_records"))

	a.mode.Store(accept)
	b.mode.Store(accept)
	require.NoError(t, r.conn.ConsumeLogs(context.Background(), ld))
	require.Equal(t, []string{"b1"}, a.taken())
	require.Equal(t, []string{"b1"}, b.taken())
}

// A permanent refusal by every destination is returned as permanent (the
// receiver counts the drop); one beside a destination that took the batch
// is counted here, under the destination, and never retried.
func TestPermanentRefusal(t *testing.T) {
	t.Run("everywhere", func(t *testing.T) {
		a, b := &testDest{}, &testDest{}
		a.mode.Store(refuseForGood)
		b.mode.Store(refuseForGood)
		r := newRig(t, testConfig(fastRetry), map[string]consumer.Logs{"a": a, "b": b})
		err := r.conn.ConsumeLogs(context.Background(), newBatch("b1", 2, 0))
		require.True(t, consumererror.IsPermanent(err))
		require.Equal(t, int64(0), r.metric("otelcol_logx_fanout_dropped_records"), "the receiver counts it, not the connector")
	})
	t.Run("beside an acceptance", func(t *testing.T) {
		bad, good := &testDest{}, &testDest{}
		bad.mode.Store(refuseForGood)
		r := newRig(t, testConfig(fastRetry), map[string]consumer.Logs{"bad": bad, "good": good})
		require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("b1", 4, 0)))
		require.Equal(t, int64(4), r.metric("otelcol_logx_fanout_dropped_records", "destination", "logs/bad", "reason", "refused"))
		require.Equal(t, int64(0), r.metric("otelcol_logx_fanout_backlogged_records"))
		require.Equal(t, int64(1), bad.calls.Load())
		require.Equal(t, []string{"b1"}, good.taken())
	})
	t.Run("a mixed refusal is retryable", func(t *testing.T) {
		bad, down := &testDest{}, &testDest{}
		bad.mode.Store(refuseForGood)
		down.mode.Store(refuse)
		r := newRig(t, testConfig(fastRetry), map[string]consumer.Logs{"bad": bad, "down": down})
		err := r.conn.ConsumeLogs(context.Background(), newBatch("b1", 4, 0))
		require.Error(t, err)
		require.False(t, consumererror.IsPermanent(err), "a retryable refusal must not be turned into a drop by a permanent one beside it")
	})
}

// While a destination has a backlog, a new batch is not offered to it
// directly but goes behind, even once the destination accepts again: its
// order is kept.
func TestNewBatchesQueueBehindTheBacklog(t *testing.T) {
	a, b := &testDest{}, &testDest{}
	a.mode.Store(refuse)
	r := newRig(t, drainingConfig(slowRetry), map[string]consumer.Logs{"a": a, "b": b})

	require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("b1", 1, 0)))
	r.waitFor(1, "otelcol_logx_fanout_retries", "destination", "logs/a") // the backlog's first attempt was refused
	callsBefore := a.calls.Load()
	a.mode.Store(accept)
	for _, id := range ids("b", 2, 5) {
		require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch(id, 1, 0)))
	}
	require.Equal(t, callsBefore, a.calls.Load(), "a destination with a backlog is not offered new batches directly")
	require.Equal(t, int64(5), r.metric("otelcol_logx_fanout_backlog_batches", "destination", "logs/a"))
	require.Empty(t, a.taken())

	// Shutdown cuts the hour-long backoff: the backlog drains, in order.
	require.NoError(t, r.conn.Shutdown(context.Background()))
	require.Equal(t, ids("b", 1, 5), a.taken())
	require.Equal(t, ids("b", 1, 5), b.taken())
	require.Equal(t, int64(0), r.metric("otelcol_logx_fanout_dropped_records"))
}

// A destination with a backlog and another that refuses: nothing was
// delivered, so the error goes back and the backlog does not take the
// batch (the receiver offers it again, to both).
func TestRefusalBesideABacklogReturnsTheError(t *testing.T) {
	a, b := &testDest{}, &testDest{}
	a.mode.Store(refuse)
	r := newRig(t, testConfig(slowRetry), map[string]consumer.Logs{"a": a, "b": b})
	require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("b1", 1, 0)))

	b.mode.Store(refuse)
	require.ErrorIs(t, r.conn.ConsumeLogs(context.Background(), newBatch("b2", 1, 0)), errDown)
	require.Equal(t, int64(1), r.metric("otelcol_logx_fanout_backlog_batches", "destination", "logs/a"))
	require.Equal(t, []string{"b1"}, b.taken())
}

// A destination that changes the data gets a copy of its own: the others,
// and the backlog, keep the batch as it came. Each backlog attempt gets a
// fresh copy, so what a refused attempt changed is not delivered later.
func TestMutatingDestinationGetsItsOwnCopy(t *testing.T) {
	m := &testDest{mutates: true}
	m.mode.Store(refuse)
	ro := &testDest{}
	r := newRig(t, testConfig(fastRetry), map[string]consumer.Logs{"mutating": m, "readonly": ro})

	require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("b1", 3, 0)))
	r.waitFor(2, "otelcol_logx_fanout_retries", "destination", "logs/mutating")
	m.mode.Store(accept)
	r.waitFor(3, "otelcol_logx_fanout_backlog_delivered_records", "destination", "logs/mutating")
	require.Equal(t, []int{3}, ro.records, "the read-only destination saw the batch unchanged")
	require.Equal(t, []int{4}, m.records, "the mutating destination got the batch as it came, plus its own change once")
}

// Concurrent callers (several receivers feeding one pipeline) while one
// destination flaps: each batch reaches the steady destination exactly
// once, and the flapping one exactly once too, in each caller's order.
func TestConcurrentCallersWhileADestinationFlaps(t *testing.T) {
	flappy := &testDest{}
	steady := &testDest{}
	r := newRig(t, testConfig(fastRetry), map[string]consumer.Logs{"flappy": flappy, "steady": steady})

	const callers, perCaller = 4, 200
	var wg sync.WaitGroup
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perCaller {
				if c == 0 && i%25 == 0 {
					flappy.mode.Store(int32((i / 25) % 2)) // accept, refuse, accept...
				}
				assert.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch(fmt.Sprintf("c%di%d", c, i), 1, 0)))
			}
		}()
	}
	wg.Wait()
	flappy.mode.Store(accept)
	require.Eventually(t, func() bool { return len(flappy.taken()) == callers*perCaller }, 20*time.Second, time.Millisecond)
	require.Equal(t, int64(0), r.metric("otelcol_logx_fanout_dropped_records"))

	for _, d := range []*testDest{flappy, steady} {
		got := d.taken()
		seen := map[string]bool{}
		next := make([]int, callers)
		for _, id := range got {
			require.False(t, seen[id], "%s delivered twice", id)
			seen[id] = true
			var c, i int
			_, err := fmt.Sscanf(id, "c%di%d", &c, &i)
			require.NoError(t, err)
			require.Equal(t, next[c], i, "caller %d's batches out of order", c)
			next[c]++
		}
		require.Len(t, got, callers*perCaller)
	}
}

// The factory needs the collector's router over pipelines.
func TestFactoryNeedsARouter(t *testing.T) {
	_, err := createLogsToLogs(context.Background(), connectortest.NewNopSettings(metadata.Type), createDefaultConfig(), consumertest.NewNop())
	require.ErrorIs(t, err, errNotRouter)
}

// BenchmarkConsumeLogs measures what the connector costs over the
// collector's own fan-out (the router's ConsumeLogs), on the happy path:
// every destination accepts. "edge" is edge.yaml's shape: one destination
// that changes data (an exporter with a batching queue) and one that does
// not, so both fan-outs copy the batch once.
func BenchmarkConsumeLogs(b *testing.B) {
	shapes := map[string][]consumer.Logs{
		"two_readonly": {consumertest.NewNop(), consumertest.NewNop()},
		"edge":         {&mutatingNop{}, consumertest.NewNop()},
	}
	for shape, dests := range shapes {
		routes := map[pipeline.ID]consumer.Logs{}
		for i, d := range dests {
			routes[pipeline.NewIDWithName(pipeline.SignalLogs, fmt.Sprint(i))] = d
		}
		ld := newBatch("b", 100, 200)
		b.Run(shape+"/collector_fanout", func(b *testing.B) {
			router := connector.NewLogsRouter(routes)
			for range b.N {
				if err := router.ConsumeLogs(context.Background(), ld); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(shape+"/fanout_connector", func(b *testing.B) {
			conn, err := createLogsToLogs(context.Background(), connectortest.NewNopSettings(metadata.Type), createDefaultConfig(), connector.NewLogsRouter(routes))
			require.NoError(b, err)
			require.NoError(b, conn.Start(context.Background(), componenttest.NewNopHost()))
			defer func() { require.NoError(b, conn.Shutdown(context.Background())) }()
			b.ResetTimer()
			for range b.N {
				if err := conn.ConsumeLogs(context.Background(), ld); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// mutatingNop declares that it changes data and accepts everything.
type mutatingNop struct{}

func (mutatingNop) ConsumeLogs(context.Context, plog.Logs) error { return nil }
func (mutatingNop) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: true}
}

// The defect this connector exists for: the collector's own fan-out (the
// router's ConsumeLogs, as for several exporters in one pipeline) returns a
// refusal even when another consumer took the batch, so the caller retries
// and the one that took it gets it again.
func TestCollectorFanoutReturnsAnyRefusal(t *testing.T) {
	down, up := &testDest{}, &testDest{}
	down.mode.Store(refuse)
	router := connector.NewLogsRouter(map[pipeline.ID]consumer.Logs{
		pipeline.NewIDWithName(pipeline.SignalLogs, "down"): down,
		pipeline.NewIDWithName(pipeline.SignalLogs, "up"):   up,
	})
	ld := newBatch("b1", 1, 0)
	for range 3 { // the receiver retrying
		require.ErrorIs(t, router.ConsumeLogs(context.Background(), ld), errDown)
	}
	require.Equal(t, []string{"b1", "b1", "b1"}, up.taken())
}

// A required destination must take a batch before the connector does: its
// refusal goes back to the caller (a cfjs1 receiver then does not
// acknowledge the lines, and the sender sends them elsewhere), the others
// are not offered the batch, and no backlog is kept for it. Once it takes
// batches again, the others get them too.
func TestRequiredDestinationRefusalGoesUpstream(t *testing.T) {
	kafka := &testDest{}
	kafka.mode.Store(refuse)
	tenants := &testDest{}
	cfg := testConfig(fastRetry)
	cfg.Required = []string{"logs/kafka"}
	r := newRig(t, cfg, map[string]consumer.Logs{"kafka": kafka, "tenants": tenants})

	err := r.conn.ConsumeLogs(context.Background(), newBatch("b1", 3, 0))
	require.Error(t, err, "the required destination refused: so does the connector")
	assert.False(t, consumererror.IsPermanent(err), "retryable, as the destination said")
	assert.Empty(t, tenants.taken(), "the others are not offered a batch the caller keeps")
	assert.EqualValues(t, 0, r.metric("otelcol_logx_fanout_backlog_batches", "destination", "logs/kafka"))

	kafka.mode.Store(accept)
	require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("b1", 3, 0)))
	assert.Equal(t, []string{"b1"}, kafka.taken())
	assert.Equal(t, []string{"b1"}, tenants.taken())
}

func TestRequiredMustBeADestination(t *testing.T) {
	cfg := testConfig(fastRetry)
	cfg.Required = []string{"logs/elsewhere"}
	require.NoError(t, cfg.Validate())
	set := connectortest.NewNopSettings(metadata.Type)
	_, err := NewFactory().CreateLogsToLogs(context.Background(), set, cfg,
		connector.NewLogsRouter(map[pipeline.ID]consumer.Logs{pipeline.NewIDWithName(pipeline.SignalLogs, "kafka"): &testDest{}}))
	require.ErrorContains(t, err, `required pipeline "logs/elsewhere" does not list this connector`)

	cfg.Required = []string{"not a pipeline"}
	require.ErrorContains(t, cfg.Validate(), "is not a pipeline id")
}
