package ingest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// stallingConsumer blocks every delivery until its context ends, as an
// exporter retrying a dead peer without a queue does.
type stallingConsumer struct{ calls atomic.Int64 }

func (*stallingConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *stallingConsumer) ConsumeLogs(ctx context.Context, _ plog.Logs) error {
	c.calls.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// flakyConsumer refuses (retryably) its first n deliveries.
type flakyConsumer struct {
	refuse   atomic.Int64
	accepted atomic.Int64
}

func (*flakyConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *flakyConsumer) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	if c.refuse.Add(-1) >= 0 {
		return errors.New("busy")
	}
	c.accepted.Add(int64(ld.LogRecordCount()))
	return nil
}

// TestStageShutdownStalledConsumerCountsAll: a delivery in progress that
// never returns on its own does not hold Shutdown past its deadline, and
// the batch in it as well as everything queued are counted as dropped at
// shutdown, with one log line saying how many.
func TestStageShutdownStalledConsumerCountsAll(t *testing.T) {
	next := &stallingConsumer{}
	var drops dropCount
	core, logs := observer.New(zapcore.InfoLevel)
	s := NewStage(DefaultBufferConfig(), StageSettings{Next: next, OnDrop: drops.add, Logger: zap.New(core)})
	s.Start()
	for range 10 {
		require.True(t, s.Offer(batchOf(4)))
	}
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return next.calls.Load() == 1 }) // one batch in flight
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	require.NoError(t, s.Shutdown(ctx))
	assert.Less(t, time.Since(start), 200*time.Millisecond+inflightGrace+time.Second)
	assert.Equal(t, 40, drops.get(ReasonShutdown), "queued and in-flight records all counted")
	assert.Zero(t, s.Held())
	require.Equal(t, 1, logs.Len())
	assert.Equal(t, int64(40), logs.All()[0].ContextMap()["records"])
}

// TestStageShutdownRetriesWithinDeadline: a consumer that refuses for a
// moment during shutdown still gets everything, nothing is dropped, and
// no log line is written.
func TestStageShutdownRetriesWithinDeadline(t *testing.T) {
	next := &flakyConsumer{}
	next.refuse.Store(1 << 30) // refuses until told otherwise
	var drops dropCount
	core, logs := observer.New(zapcore.InfoLevel)
	s := NewStage(DefaultBufferConfig(), StageSettings{Next: next, OnDrop: drops.add, Logger: zap.New(core)})
	s.Start()
	for range 5 {
		require.True(t, s.Offer(batchOf(3)))
	}
	next.refuse.Store(3) // three more refusals, during the drain
	require.NoError(t, s.Shutdown(context.Background()))
	assert.Equal(t, int64(15), next.accepted.Load())
	assert.Zero(t, drops.get(ReasonShutdown))
	assert.Zero(t, logs.Len())
}
