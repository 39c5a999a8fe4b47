package fanoutconnector

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
)

// A full backlog drops its oldest batches, counted under the destination
// with reason backlog_full; what it keeps is delivered in order. The call
// succeeds: the other destination took the batch.
func TestFullBacklogDropsTheOldest(t *testing.T) {
	down, up := &testDest{}, &testDest{}
	down.mode.Store(refuse)
	cfg := drainingConfig(slowRetry)
	cfg.Backlog.MaxBatches = 3
	r := newRig(t, cfg, map[string]consumer.Logs{"down": down, "up": up})

	require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("b1", 2, 0)))
	r.waitFor(1, "otelcol_logx_fanout_retries", "destination", "logs/down") // not in delivery now
	for _, id := range ids("b", 2, 5) {
		require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch(id, 2, 0)))
	}
	require.Equal(t, int64(4), r.metric("otelcol_logx_fanout_dropped_records", "destination", "logs/down", "reason", "backlog_full"))
	require.Equal(t, int64(3), r.metric("otelcol_logx_fanout_backlog_batches", "destination", "logs/down"))
	require.InDelta(t, 1.0, r.guardUtilization("backlog.max_batches"), 1e-9)
	require.Equal(t, ids("b", 1, 5), up.taken())

	down.mode.Store(accept)
	require.NoError(t, r.conn.Shutdown(context.Background()))
	require.Equal(t, ids("b", 3, 5), down.taken())
	// Every record fed is delivered or counted: 10 = 6 delivered + 4 dropped.
	require.Equal(t, int64(6), r.metric("otelcol_logx_fanout_backlog_delivered_records", "destination", "logs/down"))
}

// The byte bound holds as well as the batch bound; a batch larger than the
// whole bound is dropped for that destination at once.
func TestBacklogByteBound(t *testing.T) {
	down, up := &testDest{}, &testDest{}
	down.mode.Store(refuse)
	cfg := testConfig(slowRetry)
	cfg.Backlog.MaxBytes = 1 << 20
	r := newRig(t, cfg, map[string]consumer.Logs{"down": down, "up": up})

	require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("b1", 4, 100_000))) // ~400 KB
	r.waitFor(1, "otelcol_logx_fanout_retries", "destination", "logs/down")
	require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("b2", 4, 100_000)))
	require.Equal(t, int64(0), r.metric("otelcol_logx_fanout_dropped_records"))
	require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("b3", 4, 100_000)))
	require.Equal(t, int64(4), r.metric("otelcol_logx_fanout_dropped_records", "destination", "logs/down", "reason", "backlog_full"), "b1 made room for b3")
	held := r.metric("otelcol_logx_fanout_backlog_bytes", "destination", "logs/down")
	require.Greater(t, held, int64(800_000))
	require.LessOrEqual(t, held, int64(1<<20))

	require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("huge", 12, 100_000))) // ~1.2 MB
	require.Equal(t, int64(16), r.metric("otelcol_logx_fanout_dropped_records", "destination", "logs/down", "reason", "backlog_full"))
	require.Equal(t, int64(2), r.metric("otelcol_logx_fanout_backlog_batches", "destination", "logs/down"), "an oversized batch evicts nothing")
	require.Equal(t, []string{"b1", "b2", "b3", "huge"}, up.taken())
}

// At shutdown the backlog is drained for drain_timeout at most; what a
// destination still refuses then is counted as dropped with reason
// shutdown, and Shutdown returns.
func TestShutdownCountsWhatCouldNotBeDrained(t *testing.T) {
	down, up := &testDest{}, &testDest{}
	down.mode.Store(refuse)
	cfg := testConfig(fastRetry)
	r := newRig(t, cfg, map[string]consumer.Logs{"down": down, "up": up})
	for _, id := range ids("b", 1, 3) {
		require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch(id, 5, 0)))
	}
	start := time.Now()
	require.NoError(t, r.conn.Shutdown(context.Background()))
	require.Less(t, time.Since(start), 10*time.Second, "shutdown is bounded by drain_timeout")
	require.Equal(t, int64(15), r.metric("otelcol_logx_fanout_dropped_records", "destination", "logs/down", "reason", "shutdown"))
	require.Equal(t, int64(0), r.metric("otelcol_logx_fanout_backlog_batches", "destination", "logs/down"))

	// After shutdown, a batch one destination refuses is counted at once.
	require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("late", 2, 0)))
	require.Equal(t, int64(17), r.metric("otelcol_logx_fanout_dropped_records", "destination", "logs/down", "reason", "shutdown"))
}

// The guards are reported while the connector runs, and no longer after
// Shutdown.
func TestGuardsRegistered(t *testing.T) {
	down, up := &testDest{}, &testDest{}
	down.mode.Store(refuse)
	cfg := testConfig(slowRetry)
	cfg.Backlog.MaxBatches = 4
	r := newRig(t, cfg, map[string]consumer.Logs{"down": down, "up": up})
	require.Equal(t, 0.0, r.guardUtilization("backlog.max_batches"))
	require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("b1", 1, 0)))
	require.NoError(t, r.conn.ConsumeLogs(context.Background(), newBatch("b2", 1, 0)))
	require.InDelta(t, 0.5, r.guardUtilization("backlog.max_batches"), 1e-9)
	require.Positive(t, r.guardUtilization("backlog.max_bytes"))
	require.NoError(t, r.conn.Shutdown(context.Background()))
	require.Equal(t, -1.0, r.guardUtilization("backlog.max_batches"))
}
