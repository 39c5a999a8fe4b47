package ingest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// switchConsumer accepts, refuses (retryably) or refuses permanently.
type switchConsumer struct {
	mode     atomic.Int32 // 0 accept, 1 refuse, 2 permanent
	accepted atomic.Int64
}

func (c *switchConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *switchConsumer) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	switch c.mode.Load() {
	case 1:
		return errors.New("down")
	case 2:
		return consumererror.NewPermanent(errors.New("bad"))
	}
	c.accepted.Add(int64(ld.LogRecordCount()))
	return nil
}

type dropCount struct {
	mu sync.Mutex
	m  map[string]int
}

func (d *dropCount) add(reason string, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]int{}
	}
	d.m[reason] += n
}

func (d *dropCount) get(reason string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[reason]
}

func batchOf(n int) Batch {
	ld := plog.NewLogs()
	rs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for range n {
		rs.AppendEmpty().Body().SetStr("x")
	}
	return Batch{Logs: ld, Size: int64(n) * 100, Records: n}
}

func TestStageExactAccounting(t *testing.T) {
	for _, policy := range []Policy{DropNewest, DropOldest} {
		t.Run(policy.String(), func(t *testing.T) {
			next := &switchConsumer{}
			next.mode.Store(1)
			var drops dropCount
			s := NewStage(BufferConfig{MaxBytes: 10_000, Policy: policy}, StageSettings{Next: next, OnDrop: drops.add})
			s.Start()
			offered := 0
			for range 1000 {
				s.Offer(batchOf(7)) // 700 bytes each: at most 14 held
				offered += 7
				require.LessOrEqual(t, s.Held(), int64(10_000))
			}
			assert.Positive(t, drops.get(ReasonBufferFull))
			next.mode.Store(0)
			testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return s.Held() == 0 })
			require.NoError(t, s.Shutdown(context.Background()))
			assert.Equal(t, offered, int(next.accepted.Load())+drops.get(ReasonBufferFull))
			assert.Equal(t, 14*7, int(next.accepted.Load()))
		})
	}
}

func TestStagePermanentRefusalDrops(t *testing.T) {
	next := &switchConsumer{}
	next.mode.Store(2)
	var drops dropCount
	s := NewStage(DefaultBufferConfig(), StageSettings{Next: next, OnDrop: drops.add})
	s.Start()
	s.Offer(batchOf(5))
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return drops.get(ReasonRefused) == 5 })
	require.NoError(t, s.Shutdown(context.Background()))
}

func TestStageShutdownCountsWhatIsHeld(t *testing.T) {
	next := &switchConsumer{}
	next.mode.Store(1)
	var drops dropCount
	s := NewStage(DefaultBufferConfig(), StageSettings{Next: next, OnDrop: drops.add})
	s.Start()
	for range 10 {
		require.True(t, s.Offer(batchOf(3)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	assert.Equal(t, 30, drops.get(ReasonShutdown))
	assert.False(t, s.Offer(batchOf(2)))
	assert.Equal(t, 32, drops.get(ReasonShutdown))
}

func TestStagePutWaitsAndDone(t *testing.T) {
	next := &switchConsumer{}
	next.mode.Store(1)
	s := NewStage(BufferConfig{MaxBytes: 1000}, StageSettings{Next: next})
	s.Start()
	var done atomic.Int32
	b := batchOf(6)
	b.Done = func(err error) {
		if err == nil {
			done.Add(1)
		}
	}
	require.NoError(t, s.Put(context.Background(), b))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, s.Put(ctx, batchOf(6)), context.DeadlineExceeded)
	next.mode.Store(0)
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return done.Load() == 1 })
	require.NoError(t, s.Shutdown(context.Background()))
}

func TestPolicyText(t *testing.T) {
	var p Policy
	require.NoError(t, p.UnmarshalText([]byte("drop_oldest")))
	assert.Equal(t, DropOldest, p)
	require.ErrorContains(t, p.UnmarshalText([]byte("block")), `write "drop_newest"`)
	require.Error(t, BufferConfig{MaxBytes: 10}.Validate())
	assert.NoError(t, DefaultBufferConfig().Validate())
}

func TestStageShutdownWithoutStart(t *testing.T) {
	s := NewStage(DefaultBufferConfig(), StageSettings{Next: &switchConsumer{}})
	require.NoError(t, s.Shutdown(context.Background()))
	s.Start() // after Shutdown: no sender
	assert.False(t, s.Offer(batchOf(1)))
}

// testRecordOverhead is what the tests' batches count per record beyond
// their text: a round number, not a measurement (see recordcost.go).
const testRecordOverhead = 512

// waitingContext tells, by closing waiting, the first time Put asks for
// its Done channel: Put does so only once it found no room and is about
// to wait for some, so from then on only a signal of room wakes it.
type waitingContext struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func (c *waitingContext) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return c.Context.Done()
}

// TestStagePutWakesWhenParsedFormEvicts: a Put waiting for room gets it
// when the request being built evicts queued batches to count its parsed
// form within the bound, not only when a delivery ends. Here the
// consumer holds that request (a slow or refusing one holds it for as
// long as it likes), so a Put not told of the room freed would wait that
// long beside a buffer with room.
func TestStagePutWakesWhenParsedFormEvicts(t *testing.T) {
	next := &recordingConsumer{gate: make(chan error, 1), entered: make(chan struct{}, 4)}
	var drops dropCount
	s := NewStage(BufferConfig{MaxBytes: 1000}, StageSettings{Next: next, OnDrop: drops.add})
	// Queued before the sender starts: the request to be (100 bytes, 450
	// more once parsed) and another service's batch (500 bytes).
	first := batchOf(1)
	first.Key, first.Size, first.ParsedSize = "first", 100, 450
	other := batchOf(5)
	other.Key, other.Size = "other", 500
	require.True(t, s.Offer(first))
	require.True(t, s.Offer(other))

	// 600 held: 450 more does not fit, so Put waits.
	waiting := batchOf(2)
	waiting.Key, waiting.Size = "waiting", 450
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wctx := &waitingContext{Context: ctx, waiting: make(chan struct{})}
	put := make(chan error, 1)
	go func() { put <- s.Put(wctx, waiting) }()
	<-wctx.waiting

	// Building the first request counts 550 for it: "other" is evicted
	// (100+450+500 > 1000), leaving 550 held, room for the 450 waiting.
	s.Start()
	<-next.entered
	select {
	case err := <-put:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("Put still waits although the bound has room (%d of 1000 bytes held) while the consumer holds the request", s.Held())
	}
	assert.Equal(t, 5, drops.get(ReasonBufferFull), "the evicted batch is counted")
	assert.Equal(t, int64(1000), s.Held())

	next.gate <- nil // the first request
	<-next.entered
	next.gate <- nil // the batch Put handed over
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return s.Held() == 0 })
	require.NoError(t, s.Shutdown(context.Background()))
	calls, _ := next.snapshot()
	require.Len(t, calls, 2)
	assert.Len(t, calls[0], 1)
	assert.Len(t, calls[1], 2)
}
