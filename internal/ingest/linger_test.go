package ingest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// callConsumer records when each request came and how many records it had.
type callConsumer struct {
	mu      sync.Mutex
	records []int
	arrived chan time.Time
}

func (*callConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *callConsumer) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.mu.Lock()
	c.records = append(c.records, ld.LogRecordCount())
	c.mu.Unlock()
	if c.arrived != nil {
		c.arrived <- time.Now()
	}
	return nil
}

func (c *callConsumer) calls() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.records...)
}

func (c *callConsumer) total() int {
	n := 0
	for _, r := range c.calls() {
		n += r
	}
	return n
}

func lingerStage(t *testing.T, linger time.Duration, next consumer.Logs) *Stage {
	s := NewStage(BufferConfig{MaxBytes: 64 << 20}, StageSettings{Next: next, Linger: linger})
	s.Start()
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	return s
}

// TestLingerLoneRecordWithinBound: a line written alone (1 line/s) waits
// the linger for company, no more: it reaches the consumer after at least
// the linger and well within the 200 ms a line may take end to end.
func TestLingerLoneRecordWithinBound(t *testing.T) {
	const linger = 10 * time.Millisecond
	next := &callConsumer{arrived: make(chan time.Time, 1)}
	s := lingerStage(t, linger, next)
	var worst time.Duration
	for range 20 {
		offered := time.Now()
		require.True(t, s.Offer(batchOf(1)))
		select {
		case at := <-next.arrived:
			took := at.Sub(offered)
			assert.GreaterOrEqual(t, took, linger, "the lone record did not linger")
			worst = max(worst, took)
		case <-time.After(5 * time.Second):
			t.Fatal("a lone record was not delivered in 5 s")
		}
	}
	t.Logf("lone record: worst of 20 deliveries %v (linger %v)", worst, linger)
	assert.Less(t, worst, 200*time.Millisecond)
}

// TestLingerMergesReads: batches offered one read at a time within the
// linger go to the consumer as one request.
func TestLingerMergesReads(t *testing.T) {
	next := &callConsumer{}
	s := lingerStage(t, time.Second, next)
	for range 50 {
		require.True(t, s.Offer(batchOf(1)))
	}
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return next.total() == 50 })
	assert.Equal(t, []int{50}, next.calls())
}

// TestLingerFullRequestGoesAtOnce: once what is held makes a full
// request, it does not wait out the linger (an hour here).
func TestLingerFullRequestGoesAtOnce(t *testing.T) {
	next := &callConsumer{}
	s := lingerStage(t, time.Hour, next)
	for range LingerRecords / 64 {
		require.True(t, s.Offer(batchOf(64)))
	}
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return next.total() == LingerRecords })
	assert.Equal(t, []int{LingerRecords}, next.calls())
}

// TestLingerShutdownDeliversAtOnce: a stop does not wait out the linger.
func TestLingerShutdownDeliversAtOnce(t *testing.T) {
	next := &callConsumer{}
	s := NewStage(BufferConfig{MaxBytes: 64 << 20}, StageSettings{Next: next, Linger: time.Hour})
	s.Start()
	require.True(t, s.Offer(batchOf(3)))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	assert.Equal(t, []int{3}, next.calls())
}

// TestIdleSenderNeverWakes: with nothing held the sender waits on its
// wake channel alone: no timer, no ticker. Measured over a quiet spell
// after one delivery.
func TestIdleSenderNeverWakes(t *testing.T) {
	next := &callConsumer{}
	s := lingerStage(t, 5*time.Millisecond, next)
	require.True(t, s.Offer(batchOf(1)))
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return next.total() == 1 })
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.idle })
	before := s.wakeups.Load()
	time.Sleep(200 * time.Millisecond) // the quiet spell measured, not a synchronisation
	assert.Equal(t, before, s.wakeups.Load(), "the idle sender woke up")
}
