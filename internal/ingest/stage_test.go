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

// TestWaitingStageNeverEvicts: a stage whose reader waits (the journal's)
// never drops a queued batch to count a request's parsed form: the parsed
// form takes the held bytes past max_bytes for as long as the consumer
// holds the request, and Put waits until they are back under. Evicting
// there dropped journal entries at saturation, and the cursor stopped
// moving for the rest of the run.
func TestWaitingStageNeverEvicts(t *testing.T) {
	next := &recordingConsumer{gate: make(chan error), entered: make(chan struct{}, 4)}
	var drops dropCount
	s := NewStage(BufferConfig{MaxBytes: 1000}, StageSettings{Next: next, OnDrop: drops.add, Wait: true})
	// The request to be (100 bytes, 450 more once parsed) and another
	// service's batch (500 bytes), held before the sender starts.
	first := batchOf(1)
	first.Key, first.Size, first.ParsedSize = "first", 100, 450
	other := batchOf(5)
	other.Key, other.Size = "other", 500
	require.NoError(t, s.Put(context.Background(), first))
	require.NoError(t, s.Put(context.Background(), other))

	s.Start()
	<-next.entered // the first request, built, is with the consumer
	assert.Equal(t, int64(1050), s.Held(), "the parsed form counted on top of what is held")
	waiting := batchOf(2)
	waiting.Key, waiting.Size = "waiting", 400
	wctx := &waitingContext{Context: context.Background(), waiting: make(chan struct{})}
	put := make(chan error, 1)
	go func() { put <- s.Put(wctx, waiting) }()
	select {
	case <-wctx.waiting: // over max_bytes: Put waits
	case err := <-put:
		t.Fatalf("Put did not wait (%v): a queued batch was dropped to make room; held %d", err, s.Held())
	}

	close(next.gate) // the consumer takes everything from now on
	require.NoError(t, <-put)
	testutil.WaitFor(t, 10*time.Second, "everything delivered", func() bool { return s.Held() == 0 })
	require.NoError(t, s.Shutdown(context.Background()))
	calls, _ := next.snapshot()
	assert.Len(t, flatten(calls), 8, "records delivered")
	assert.Zero(t, drops.get(ReasonBufferFull), "nothing evicted")
}
