package ratelimitprocessor

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/processor/ratelimitprocessor/internal/metadata"
)

// rateLimiter is the processor: a key table of token buckets, the
// per-record decision, and the background jobs (eviction, drop metrics,
// summaries).
type rateLimiter struct {
	cfg    *Config
	clock  Clock
	epoch  time.Time
	keys   keyReader
	table  *table
	limits *limitSet

	severity    plog.SeverityNumber // 0: severity not considered
	exemptMode  bool
	bytesOn     bool
	dryRun      bool
	summariesOn bool

	tel    *metadata.TelemetryBuilder
	logger *zap.Logger
	next   consumer.Logs

	states sync.Pool // *batchState: per-batch scratch, reused so records do not allocate

	report reporter

	started   atomic.Bool
	stopOnce  sync.Once
	stop      chan struct{}
	done      chan struct{}
	unobserve func() error
}

func newRateLimiter(cfg *Config, set component.TelemetrySettings, next consumer.Logs, clock Clock) (*rateLimiter, error) {
	tel, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	ls := newLimitSet(cfg)
	p := &rateLimiter{
		cfg: cfg, clock: clock, epoch: clock.Now(),
		keys: newKeyReader(cfg.Key), limits: ls,
		bytesOn: ls.anyBytes(), dryRun: cfg.DryRun, summariesOn: cfg.Summary.Enabled,
		tel: tel, logger: set.Logger, next: next,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if cfg.Severity.Threshold != "" {
		p.severity, _ = parseSeverity(cfg.Severity.Threshold) // Validate checked it
		p.exemptMode = cfg.Severity.Mode == severityModeExempt
	}
	p.table = newTable(cfg.MaxKeys, ls, 0)
	p.report = newReporter(p)
	p.states.New = func() any {
		st := &batchState{p: p, buf: make([]byte, 0, 128)}
		st.dropFn = st.drop
		return st
	}
	err = tel.RegisterLogxRatelimitKeysCallback(func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(p.table.len())
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.unobserve = func() error { tel.Shutdown(); return nil }
	return p, nil
}

// now is the processor's time: nanoseconds since it was made.
func (p *rateLimiter) now() int64 { return int64(p.clock.Now().Sub(p.epoch)) }

// batchState is one ProcessLogs call's scratch. dropFn is made once per
// state, so that RemoveIf gets a function without a closure allocation.
type batchState struct {
	p      *rateLimiter
	now    int64
	res    pcommon.Map
	buf    []byte
	dropFn func(plog.LogRecord) bool
	// The keys of the records being decided, in order (see prepare): each
	// key's hash and its end in keyText, which holds them all. next is the
	// index of the next record's.
	hashes  []uint64
	keyEnds []int
	keyText []byte
	next    int

	removed, exempt, overflowed int64
}

func (p *rateLimiter) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	st := p.states.Get().(*batchState)
	// One clock read per batch: every record of a batch arrived together.
	st.now = p.now()
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		st.res = rl.Resource().Attributes()
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			st.prepare(lrs)
			if p.dryRun {
				// Nothing is removed, and the data may be shared read-only
				// (the processor declares that it does not mutate in dry_run).
				for k := 0; k < lrs.Len(); k++ {
					st.drop(lrs.At(k))
				}
				continue
			}
			lrs.RemoveIf(st.dropFn)
		}
	}
	if st.removed > 0 {
		rls.RemoveIf(removeEmptyResource)
	}
	if st.exempt > 0 {
		p.tel.LogxRatelimitRecordsExempt.Add(ctx, st.exempt)
	}
	if st.overflowed > 0 {
		p.tel.LogxRatelimitRecordsOverflow.Add(ctx, st.overflowed)
	}
	st.res = pcommon.Map{}
	st.removed, st.exempt, st.overflowed = 0, 0, 0
	if cap(st.hashes) > maxPooledRecords || cap(st.keyText) > maxPooledKeyText {
		// An unusually large batch: do not keep its scratch for good.
		st.hashes, st.keyEnds, st.keyText = nil, nil, nil
	}
	p.states.Put(st)
	if rls.Len() == 0 {
		return ld, processorhelper.ErrSkipProcessingData
	}
	return ld, nil
}

func removeEmptyResource(rl plog.ResourceLogs) bool {
	rl.ScopeLogs().RemoveIf(removeEmptyScope)
	return rl.ScopeLogs().Len() == 0
}

func removeEmptyScope(sl plog.ScopeLogs) bool { return sl.LogRecords().Len() == 0 }

// prepare hashes the keys of the records about to be decided, so that
// drop can prefetch the slot of the record prefetchDistance records ahead
// of the one it decides: the slots' cache lines then load while other
// records are decided, rather than one after another, each in its record's
// turn.
func (st *batchState) prepare(lrs plog.LogRecordSlice) {
	p := st.p
	st.hashes, st.keyEnds, st.keyText, st.next = st.hashes[:0], st.keyEnds[:0], st.keyText[:0], 0
	for k := 0; k < lrs.Len(); k++ {
		key := p.keys.read(st.res, lrs.At(k), &st.buf)
		st.hashes = append(st.hashes, p.table.hash(key))
		st.keyText = append(st.keyText, key...)
		st.keyEnds = append(st.keyEnds, len(st.keyText))
	}
	for _, h := range st.hashes[:min(prefetchDistance, len(st.hashes))] {
		p.table.prefetch(h)
	}
}

const (
	prefetchDistance = 16
	// A batch state keeps its scratch for at most this many records and
	// bytes of keys between batches.
	maxPooledRecords = 1 << 16
	maxPooledKeyText = 1 << 20
)

// drop decides the next record of the slice given to prepare: true removes
// it from the batch.
func (st *batchState) drop(lr plog.LogRecord) bool {
	p := st.p
	k := st.next
	st.next++
	h := st.hashes[k]
	if ahead := st.next + prefetchDistance - 1; ahead < len(st.hashes) {
		p.table.prefetch(st.hashes[ahead])
	}
	severe := p.severity != 0 && lr.SeverityNumber() >= p.severity
	if severe && p.exemptMode {
		st.exempt++
		return false
	}
	var size int64
	if p.bytesOn {
		size = recordSize(lr)
	}
	start := 0
	if k > 0 {
		start = st.keyEnds[k-1]
	}
	// Valid until the next prepare; the table copies a key it keeps.
	key := bytesView(st.keyText[start:st.keyEnds[k]])

	// Every record looks its key up: for a key in the table that reads the
	// shard's header (always in cache) and, usually, one cache line of slots,
	// which is the key's whole hot state (see slot).
	s, i, overflowed := p.table.lookupHashed(key, h, st.now)
	if overflowed {
		st.overflowed++
	}
	sl := &s.slots[i]
	lim := p.limits.all[sl.lim]
	var c *coldState
	if lim.hasBytes || lim.hasSevere {
		c = s.cold[i]
	}
	ok, reason := admit(sl, c, lim, st.now, severe, size)
	if !ok {
		s.countDrop(i, reason, p.summariesOn)
	}
	s.mu.Unlock()
	if ok || p.dryRun {
		return false
	}
	st.removed++
	return true
}

func (p *rateLimiter) start(_ context.Context, _ component.Host) error {
	p.started.Store(true)
	go p.run() //nolint:gosec // G118: the reporter outlives Start's context; Shutdown stops it
	return nil
}

// run is the background schedule: evict idle keys, flush drop counts into
// the metrics, and emit summaries. Each job takes its time from the clock.
func (p *rateLimiter) run() {
	defer close(p.done)
	sweepEvery := min(max(p.cfg.IdleTimeout/4, time.Second), time.Minute)
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	flush := time.NewTicker(p.cfg.Metrics.Interval)
	defer flush.Stop()
	var summaryC <-chan time.Time
	if p.summariesOn {
		t := time.NewTicker(p.cfg.Summary.Interval)
		defer t.Stop()
		summaryC = t.C
	}
	for {
		select {
		case <-p.stop:
			return
		case <-sweep.C:
			p.sweep(context.Background())
		case <-flush.C:
			p.report.flushMetrics(context.Background())
		case <-summaryC:
			p.report.emitSummaries(context.Background())
		}
	}
}

// sweep evicts idle keys now.
func (p *rateLimiter) sweep(ctx context.Context) int {
	n := p.table.sweep(p.now(), int64(p.cfg.IdleTimeout))
	if n > 0 {
		p.tel.LogxRatelimitKeysEvicted.Add(ctx, int64(n))
	}
	return n
}

func (p *rateLimiter) shutdown(ctx context.Context) error {
	p.stopOnce.Do(func() {
		close(p.stop)
		if p.started.Load() {
			<-p.done
		}
		// What was counted since the last flush is not lost at shutdown.
		p.report.flushMetrics(ctx)
		if p.summariesOn {
			p.report.emitSummaries(ctx)
		}
		if p.unobserve != nil {
			_ = p.unobserve()
		}
	})
	return nil
}
