package ingest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// seqBatch is one batch of n records numbered from first, under a
// resource of its own naming its source (as batches from different
// connections are), built lazily as Lines' batches are. Done records how
// the batch ended in dones[index].
func seqBatch(source, first, n int, dones *doneLog) Batch {
	idx := dones.add()
	return Batch{
		Size:    int64(n) * (8 + testRecordOverhead),
		Records: n,
		Build: func() plog.Logs {
			ld := plog.NewLogs()
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutInt("source", int64(source))
			lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
			for i := range n {
				lr := lrs.AppendEmpty()
				lr.Body().SetInt(int64(first + i))
				lr.Attributes().PutInt("source", int64(source))
			}
			return ld
		},
		Done: func(err error) { dones.done(idx, err) },
	}
}

// doneLog counts, per batch, the calls of its Done and the last error.
type doneLog struct {
	mu    sync.Mutex
	calls []int
	errs  []error
}

func (d *doneLog) add() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, 0)
	d.errs = append(d.errs, nil)
	return len(d.calls) - 1
}

func (d *doneLog) done(i int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls[i]++
	d.errs[i] = err
}

// requireEach checks that every batch's Done was called exactly once and
// with the given outcome (ErrDropped or nil) for those want selects.
func (d *doneLog) requireEach(t *testing.T, want func(i int) error) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, n := range d.calls {
		require.Equal(t, 1, n, "Done of batch %d called %d times", i, n)
		require.ErrorIs(t, d.errs[i], want(i), "batch %d", i)
		if want(i) == nil {
			require.NoError(t, d.errs[i], "batch %d", i)
		}
	}
}

// recordingConsumer keeps the sequence numbers of every call, checks that
// no resource got a record of another source, and takes delay per call
// (the cost of a disk sync per request). If gate is set, each call first
// takes a value from it: the error to return.
type recordingConsumer struct {
	delay   time.Duration
	gate    chan error
	entered chan struct{}

	mu    sync.Mutex
	calls [][]int64
	mixed int
}

func (*recordingConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *recordingConsumer) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if c.entered != nil {
		c.entered <- struct{}{}
	}
	var err error
	if c.gate != nil {
		select {
		case err = <-c.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if c.delay > 0 {
		time.Sleep(c.delay) // the consumer's own cost, not synchronisation
	}
	var seq []int64
	mixed := 0
	for i := range ld.ResourceLogs().Len() {
		rl := ld.ResourceLogs().At(i)
		src, _ := rl.Resource().Attributes().Get("source")
		for j := range rl.ScopeLogs().Len() {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := range lrs.Len() {
				if v, _ := lrs.At(k).Attributes().Get("source"); v.Int() != src.Int() {
					mixed++
				}
				seq = append(seq, lrs.At(k).Body().Int())
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, seq)
	c.mixed += mixed
	return err
}

func (c *recordingConsumer) snapshot() (calls [][]int64, mixed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]int64(nil), c.calls...), c.mixed
}

// flatten returns the sequence numbers of all calls, in order.
func flatten(calls [][]int64) []int64 {
	var all []int64
	for _, c := range calls {
		all = append(all, c...)
	}
	return all
}

// TestStageCoalescesForSlowConsumer: a consumer that takes 5 ms per call
// (as a persistent queue syncing the disk per request does) gets 20,000
// one-line batches offered at 20,000 a second, from 7 sources, into the
// smallest buffer a config allows (about 4,000 of them: the sender may
// stall for 200 ms without a drop). One batch per call would deliver 200
// a second and drop most of them; merged, every record is delivered, in
// order, in far fewer calls within the merge bound, no resource mixes
// sources, and every batch's Done is called once with nil.
func TestStageCoalescesForSlowConsumer(t *testing.T) {
	const batches = 20_000
	next := &recordingConsumer{delay: 5 * time.Millisecond}
	var drops dropCount
	var dones doneLog
	s := NewStage(BufferConfig{MaxBytes: 2 << 20}, StageSettings{Next: next, OnDrop: drops.add})
	s.Start()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(time.Minute)
	for i := 0; i < batches; {
		<-tick.C
		require.True(t, time.Now().Before(deadline), "offering took over a minute")
		for range 20 {
			s.Offer(seqBatch(i%7, i, 1, &dones))
			i++
		}
	}
	require.Zero(t, drops.get(ReasonBufferFull), "dropped while offering")
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return s.Held() == 0 })
	require.NoError(t, s.Shutdown(context.Background()))

	calls, mixed := next.snapshot()
	assert.Zero(t, drops.get(ReasonBufferFull), "dropped")
	got := flatten(calls)
	require.Len(t, got, batches)
	for i, v := range got {
		require.Equal(t, int64(i), v, "record %d out of order", i)
	}
	assert.Less(t, len(calls), batches/20, "calls for %d one-line batches", batches)
	for _, c := range calls {
		assert.LessOrEqual(t, len(c), MaxMergeRecords)
	}
	assert.Zero(t, mixed, "records under another source's resource")
	dones.requireEach(t, func(int) error { return nil })
	t.Logf("%d calls for %d batches", len(calls), batches)
}

// TestStageRetriesMergedBatchWhole: a merged request refused with a
// retryable error is retried as the same request (not split, not grown by
// what arrived meanwhile); what came later follows in the next one.
func TestStageRetriesMergedBatchWhole(t *testing.T) {
	next := &recordingConsumer{gate: make(chan error, 1), entered: make(chan struct{}, 16)}
	var dones doneLog
	var drops dropCount
	s := NewStage(DefaultBufferConfig(), StageSettings{Next: next, OnDrop: drops.add})
	s.Start()
	require.True(t, s.Offer(seqBatch(0, 0, 3, &dones)))
	<-next.entered // call 1 holds batch 0
	for i := 1; i <= 10; i++ {
		require.True(t, s.Offer(seqBatch(i, 3*i, 3, &dones)))
	}
	next.gate <- nil // call 1 accepted
	<-next.entered   // call 2: batches 1-10 merged
	require.True(t, s.Offer(seqBatch(11, 33, 3, &dones)))
	next.gate <- errors.New("busy")
	<-next.entered // call 3: the retry, batch 11 waiting behind it
	next.gate <- nil
	<-next.entered // call 4: what came later
	next.gate <- nil
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return s.Held() == 0 })
	require.NoError(t, s.Shutdown(context.Background()))

	calls, mixed := next.snapshot()
	require.Len(t, calls, 4)
	assert.Equal(t, []int64{0, 1, 2}, calls[0])
	assert.Len(t, calls[1], 30)
	assert.Equal(t, calls[1], calls[2], "the retry is the refused request, whole")
	assert.Equal(t, []int64{33, 34, 35}, calls[3])
	assert.Zero(t, mixed)
	assert.Zero(t, drops.get(ReasonBufferFull)+drops.get(ReasonRefused)+drops.get(ReasonShutdown))
	dones.requireEach(t, func(int) error { return nil })
}

// TestStagePermanentRefusalOfMergedBatch: every record of a merged request
// refused permanently is counted, and every merged batch's Done told.
func TestStagePermanentRefusalOfMergedBatch(t *testing.T) {
	next := &recordingConsumer{gate: make(chan error, 1), entered: make(chan struct{}, 16)}
	var dones doneLog
	var drops dropCount
	s := NewStage(DefaultBufferConfig(), StageSettings{Next: next, OnDrop: drops.add})
	s.Start()
	require.True(t, s.Offer(seqBatch(0, 0, 2, &dones)))
	<-next.entered
	for i := 1; i <= 5; i++ {
		require.True(t, s.Offer(seqBatch(i, 2*i, 2, &dones)))
	}
	next.gate <- nil
	<-next.entered
	next.gate <- consumererror.NewPermanent(errors.New("bad"))
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return s.Held() == 0 })
	require.NoError(t, s.Shutdown(context.Background()))
	calls, _ := next.snapshot()
	require.Len(t, calls, 2)
	assert.Len(t, calls[1], 10)
	assert.Equal(t, 10, drops.get(ReasonRefused))
	dones.requireEach(t, func(i int) error {
		if i == 0 {
			return nil
		}
		return ErrDropped
	})
}

// TestStageEvictsMergedBatchWhole: under drop_oldest a merged request held
// for retry is evicted as one, every record counted and every Done told,
// and the bound holds.
func TestStageEvictsMergedBatchWhole(t *testing.T) {
	var dones doneLog
	var drops dropCount
	s := NewStage(BufferConfig{MaxBytes: 20 * (8 + testRecordOverhead), Policy: DropOldest},
		StageSettings{Next: &switchConsumer{}, OnDrop: drops.add})
	for i := range 10 {
		require.True(t, s.Offer(seqBatch(i, i, 1, &dones)))
	}
	// What the sender does with a request refused retryably (not started
	// here, so that nothing races the eviction).
	s.mu.Lock()
	m := merge(s.popGroupLocked())
	require.Equal(t, 10, m.Records)
	m.retry = true
	s.pushFrontLocked(m)
	s.mu.Unlock()
	for i := 10; i < 20; i++ {
		require.True(t, s.Offer(seqBatch(i, i, 1, &dones)))
	}
	assert.Zero(t, drops.get(ReasonBufferFull), "room for 20")
	require.True(t, s.Offer(seqBatch(20, 20, 1, &dones)))
	assert.Equal(t, 10, drops.get(ReasonBufferFull), "the merged request evicted whole")
	assert.Equal(t, int64(11*(8+testRecordOverhead)), s.Held())
	s.mu.Lock()
	m = merge(s.popGroupLocked())
	s.mu.Unlock()
	assert.Equal(t, 10, m.Records, "what is left merges again, up to half the buffer")
	s.mu.Lock()
	s.pushFrontLocked(m)
	s.mu.Unlock()
	require.NoError(t, s.Shutdown(context.Background()))
	assert.Equal(t, 11, drops.get(ReasonShutdown))
	dones.requireEach(t, func(int) error { return ErrDropped })
}

// TestStageShutdownCountsMergedInFlight: at a shutdown deadline, the
// records of a merged request stalled in the consumer and of everything
// queued behind it are all counted once, with reason shutdown.
func TestStageShutdownCountsMergedInFlight(t *testing.T) {
	next := &recordingConsumer{gate: make(chan error), entered: make(chan struct{}, 16)}
	var dones doneLog
	var drops dropCount
	core, logs := observer.New(zapcore.InfoLevel)
	s := NewStage(DefaultBufferConfig(), StageSettings{Next: next, OnDrop: drops.add, Logger: zap.New(core)})
	s.Start()
	require.True(t, s.Offer(seqBatch(0, 0, 4, &dones)))
	<-next.entered
	for i := 1; i <= 20; i++ {
		require.True(t, s.Offer(seqBatch(i, 4*i, 4, &dones)))
	}
	next.gate <- nil
	<-next.entered // call 2: 80 records merged, never answered
	for i := 21; i <= 30; i++ {
		require.True(t, s.Offer(seqBatch(i, 4*i, 4, &dones)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	assert.Equal(t, 120, drops.get(ReasonShutdown), "in flight and queued")
	assert.Zero(t, s.Held())
	require.Equal(t, 1, logs.Len())
	assert.Equal(t, int64(120), logs.All()[0].ContextMap()["records"])
	dones.requireEach(t, func(i int) error {
		if i == 0 {
			return nil
		}
		return ErrDropped
	})
}

// TestMergeBounds: a group stops before either bound would be passed; the
// first batch is always taken, however big.
func TestMergeBounds(t *testing.T) {
	var dones doneLog
	s := NewStage(BufferConfig{MaxBytes: 1 << 30}, StageSettings{Next: &switchConsumer{}})
	for i := range MaxMergeRecords/1000 + 2 {
		require.True(t, s.Offer(seqBatch(0, i*1000, 1000, &dones)))
	}
	big := seqBatch(0, 0, 1, &dones)
	big.Size = MaxMergeBytes + 1
	require.True(t, s.Offer(big))
	require.True(t, s.Offer(seqBatch(0, 0, 1, &dones)))
	var sizes []string
	for s.Held() > 0 {
		s.mu.Lock()
		m := merge(s.popGroupLocked())
		s.held -= m.Size
		s.mu.Unlock()
		assert.LessOrEqual(t, m.Records, MaxMergeRecords)
		sizes = append(sizes, strconv.Itoa(m.Records))
	}
	// 8 of 1000 (8000; a 9th would pass 8192), then 2 of 1000, then the
	// big one alone (over the byte bound with anything), then the last.
	assert.Equal(t, []string{"8000", "2000", "1", "1"}, sizes)
}

// TestStageObsReportCountsMergedRecords: the receiver's accepted and
// refused record counters get every record of a merged request, once.
func TestStageObsReportCountsMergedRecords(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	set := receivertest.NewNopSettings(component.MustNewType("unixsocket"))
	set.TelemetrySettings = tt.NewTelemetrySettings()
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID: set.ID, Transport: "unix", ReceiverCreateSettings: set,
	})
	require.NoError(t, err)
	next := &recordingConsumer{gate: make(chan error, 1), entered: make(chan struct{}, 16)}
	var dones doneLog
	var drops dropCount
	s := NewStage(DefaultBufferConfig(), StageSettings{Next: next, ObsReport: obs, Format: "rfc3164", OnDrop: drops.add})
	s.Start()
	require.True(t, s.Offer(seqBatch(0, 0, 3, &dones)))
	<-next.entered
	for i := 1; i <= 6; i++ { // merged into call 2: 30 records
		require.True(t, s.Offer(seqBatch(i, 5*i, 5, &dones)))
	}
	next.gate <- nil
	<-next.entered
	for i := 7; i <= 10; i++ { // merged into call 3: 28 records
		require.True(t, s.Offer(seqBatch(i, 7*i, 7, &dones)))
	}
	next.gate <- nil
	<-next.entered
	next.gate <- consumererror.NewPermanent(errors.New("bad"))
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return s.Held() == 0 })
	require.NoError(t, s.Shutdown(context.Background()))
	calls, _ := next.snapshot()
	require.Len(t, calls, 3)
	assert.Equal(t, int64(33), sumMetric(t, tt, "otelcol_receiver_accepted_log_records"))
	assert.Equal(t, int64(28), sumMetric(t, tt, "otelcol_receiver_refused_log_records"))
	assert.Equal(t, 28, drops.get(ReasonRefused))
}

func sumMetric(t *testing.T, tt *componenttest.Telemetry, name string) int64 {
	t.Helper()
	m, err := tt.GetMetric(name)
	require.NoError(t, err)
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		n += dp.Value
	}
	return n
}

// TestMergeJoinsEqualResources: batches of one source (one line each, as
// when services interleave) merge into one resource and one scope, records
// in order; a batch of another resource or scope stays apart, and a later
// batch of the first source after it starts a new resource (order first).
func TestMergeJoinsEqualResources(t *testing.T) {
	batch := func(source int64, scope string, bodies ...int64) Batch {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutInt("source", source)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(scope)
		for _, b := range bodies {
			sl.LogRecords().AppendEmpty().Body().SetInt(b)
		}
		return Batch{Logs: ld, Records: len(bodies)}
	}
	m := merge([]Batch{
		batch(1, "s", 1), batch(1, "s", 2, 3), batch(1, "other", 4),
		batch(1, "other", 5), batch(2, "s", 6), batch(1, "s", 7),
	})
	type shape struct {
		source int64
		scopes []string
		bodies [][]int64
	}
	var got []shape
	for _, rl := range m.Logs.ResourceLogs().All() {
		src, _ := rl.Resource().Attributes().Get("source")
		sh := shape{source: src.Int()}
		for _, sl := range rl.ScopeLogs().All() {
			sh.scopes = append(sh.scopes, sl.Scope().Name())
			var bodies []int64
			for _, lr := range sl.LogRecords().All() {
				bodies = append(bodies, lr.Body().Int())
			}
			sh.bodies = append(sh.bodies, bodies)
		}
		got = append(got, sh)
	}
	assert.Equal(t, []shape{
		{1, []string{"s", "other"}, [][]int64{{1, 2, 3}, {4, 5}}},
		{2, []string{"s"}, [][]int64{{6}}},
		{1, []string{"s"}, [][]int64{{7}}},
	}, got)
	assert.Equal(t, 7, m.Records)
}
