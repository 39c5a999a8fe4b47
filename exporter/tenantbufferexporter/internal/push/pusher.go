package push

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	jobs "github.com/otelcol-logx/otelcol-logx/internal/tenantjobs"
)

// Options configure a Pusher.
type Options struct {
	Store           *buffers.Store
	Consumer        string             // the store consumer whose position the pusher moves
	Jobs            func() *jobs.Table // the table in force
	Workers         int
	QuantumBytes    int           // DRR credit per turn
	BackoffInitial  time.Duration // first retry delay after a failure
	BackoffMax      time.Duration
	BreakerFailures int           // consecutive failures that open the breaker
	BreakerOpen     time.Duration // how long an open breaker stays open
	// DeadLetters is where batches refused for good are parked (bounded).
	DeadLetters *DeadLetters
	// DeadLetterSweep: how often dead letters past their age are removed,
	// and tenants whose buffer went are forgotten (1m if zero).
	DeadLetterSweep time.Duration
	// NewDestination builds a job's destination (NewDestination if nil).
	NewDestination func(*jobs.Job) Destination
	// Pace is a job's pace, applied to each of its tenants (nil: no job
	// paces).
	Pace func(*jobs.Job) Pace
	// MaxRetryAfter caps the wait a destination's Retry-After may ask of a
	// tenant; zero: the longer of BackoffMax and BreakerOpen, the longest
	// the pusher would wait on its own.
	MaxRetryAfter time.Duration
	Now           func() time.Time
}

// tenantState is the pusher's view of one tenant with a job.
type tenantState struct {
	name     string
	queued   bool // in the ready queue
	running  bool // a worker holds it
	timerAt  time.Time
	heapIdx  int
	deficit  int
	failures int
	retryAt  time.Time // set and read under Pusher.mu
	since    time.Time // first failure of the current run of failures
	notified int       // records buffered and not yet read into a push: left by the last read, plus notified since
	// pacedUntil: waiting for its pace until then (under Pusher.mu; zero
	// once a worker takes the tenant).
	pacedUntil time.Time
	waits      waitStats // under Pusher.mu
	pacer      *pacer    // its job's pace; used by the worker holding the tenant only
}

// defaultMaxRetryAfter caps a Retry-After when the pusher has no backoff
// bound of its own to cap it with.
const defaultMaxRetryAfter = 10 * time.Minute

// Pusher runs the push jobs.
type Pusher struct {
	o       Options
	mu      sync.Mutex
	cond    *sync.Cond
	tenants map[string]*tenantState
	// troubled holds the tenants whose last push failed: the state metric
	// walks these, never every tenant.
	troubled map[string]*tenantState
	// paced holds the tenants that waited for a pace or a Retry-After:
	// Paced walks these, never every tenant.
	paced   map[string]*tenantState
	ready   []*tenantState // FIFO: the DRR round
	timers  timerHeap
	wake    chan struct{}
	stopped bool
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc

	destMu    sync.Mutex
	dests     map[*jobs.Job]Destination
	destTable *jobs.Table

	Batches      atomic.Int64
	Bytes        atomic.Int64
	Records      atomic.Int64
	Parked       atomic.Int64
	BreakerOpens atomic.Int64
	// Retry-After headers of 429 and 503 responses, by outcome.
	RetryAfterHonoured atomic.Int64
	RetryAfterCapped   atomic.Int64
	RetryAfterIgnored  atomic.Int64
	failMu             sync.Mutex
	failures           map[string]int64 // by reason
}

// New returns a Pusher; Start runs it.
func New(o Options) *Pusher {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewDestination == nil {
		o.NewDestination = NewDestination
	}
	if o.DeadLetterSweep <= 0 {
		o.DeadLetterSweep = time.Minute
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = max(o.BackoffMax, o.BreakerOpen)
	}
	if o.Pace == nil {
		// The job document's own pace for its destination.
		o.Pace = func(j *jobs.Job) Pace { return Pace(j.Destination.Pace) }
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = defaultMaxRetryAfter
	}
	p := &Pusher{o: o, tenants: map[string]*tenantState{}, troubled: map[string]*tenantState{}, paced: map[string]*tenantState{},
		wake:  make(chan struct{}, 1),
		dests: map[*jobs.Job]Destination{}, failures: map[string]int64{}}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// Start launches the workers and the timer loop, and looks at every tenant
// the store already holds (data left from before a restart).
func (p *Pusher) Start(tenants []string) {
	p.ctx, p.cancel = context.WithCancel(context.Background())
	for _, t := range tenants {
		p.Notify(t, 1)
	}
	p.wg.Add(2 + p.o.Workers)
	go p.timerLoop()
	go p.sweep()
	for range p.o.Workers {
		go p.worker()
	}
}

// Stop ends the workers; a push in flight is cancelled (its batch stays
// unacknowledged in the buffer and is pushed again after a restart).
func (p *Pusher) Stop() {
	p.mu.Lock()
	p.stopped = true
	p.cond.Broadcast()
	p.mu.Unlock()
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

// Notify tells the pusher that tenant got n new records. Cheap: one map
// probe under the pusher's lock. A tenant waiting for its batch interval is
// woken early once enough records arrived to fill a batch.
func (p *Pusher) Notify(tenant string, n int) {
	job, ok := p.o.Jobs().Lookup(tenant)
	if !ok {
		return
	}
	p.mu.Lock()
	st, ok := p.tenants[tenant]
	if !ok {
		st = &tenantState{name: tenant, heapIdx: -1}
		p.tenants[tenant] = st
	}
	st.notified += n
	waitingForBatch := st.heapIdx >= 0 && st.retryAt.IsZero() && st.pacedUntil.IsZero() && st.notified >= job.Batch.MaxRecords
	if !st.queued && !st.running && (st.heapIdx < 0 || waitingForBatch) {
		p.enqueueLocked(st)
	}
	p.mu.Unlock()
}

func (p *Pusher) enqueueLocked(st *tenantState) {
	if st.queued || st.running {
		return
	}
	if st.heapIdx >= 0 {
		heap.Remove(&p.timers, st.heapIdx)
	}
	st.queued = true
	p.ready = append(p.ready, st)
	p.cond.Signal()
}

func (p *Pusher) scheduleLocked(st *tenantState, at time.Time) {
	if st.heapIdx >= 0 {
		if !at.Before(st.timerAt) {
			return
		}
		heap.Remove(&p.timers, st.heapIdx)
	}
	st.timerAt = at
	heap.Push(&p.timers, st)
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Pusher) timerLoop() {
	defer p.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		p.mu.Lock()
		now := p.o.Now()
		for len(p.timers) > 0 && !p.timers[0].timerAt.After(now) {
			st := heap.Pop(&p.timers).(*tenantState)
			p.enqueueLocked(st)
		}
		next := time.Hour
		if len(p.timers) > 0 {
			next = p.timers[0].timerAt.Sub(now)
		}
		p.mu.Unlock()
		t.Reset(next)
		select {
		case <-p.ctx.Done():
			return
		case <-p.wake:
		case <-t.C:
		}
	}
}

// sweep removes the dead letters past their retention, and forgets the
// tenants whose buffers went.
func (p *Pusher) sweep() {
	defer p.wg.Done()
	t := time.NewTicker(p.o.DeadLetterSweep)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
			p.o.DeadLetters.Sweep()
			p.forgetGone()
		}
	}
}

// forgetGone drops the state (its pace and waits with it) of the tenants
// at rest whose buffer the store no longer holds: one removed once pushed
// and idle. Without this the pusher would keep every tenant it ever saw.
// A tenant whose pace is still paying off a burst is kept until it has,
// so that forgetting it cannot lend it a fresh burst.
func (p *Pusher) forgetGone() {
	p.mu.Lock()
	var resting []string
	for name, st := range p.tenants {
		if p.restingLocked(st) {
			resting = append(resting, name)
		}
	}
	p.mu.Unlock()
	var gone []string
	for _, name := range resting {
		if _, _, err := p.o.Store.Position(name, p.o.Consumer); errors.Is(err, buffers.ErrUnknownTenant) {
			gone = append(gone, name)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.o.Now()
	for _, name := range gone {
		// A Notify since (new records, a new buffer) puts it back to work.
		if st, ok := p.tenants[name]; ok && p.restingLocked(st) && (st.pacer == nil || st.pacer.rested(now)) {
			delete(p.tenants, name)
			delete(p.paced, name)
		}
	}
}

// restingLocked: the tenant waits for nothing (no turn, timer, failure or
// records notified).
func (p *Pusher) restingLocked(st *tenantState) bool {
	_, troubled := p.troubled[st.name]
	return !st.queued && !st.running && st.heapIdx < 0 && st.notified == 0 && !troubled
}

func (p *Pusher) worker() {
	defer p.wg.Done()
	for {
		st, failures, ok := p.takeTurn()
		if !ok {
			return
		}
		tr := p.runTenant(st)
		p.finishTurn(st, failures, tr)
	}
}

// takeTurn waits for a tenant whose turn it is and that may push now, marks
// it running and returns it with its failures so far; false once the
// pusher stops. A tenant in debt or waiting goes back to the queue or the
// timer heap on the way.
func (p *Pusher) takeTurn() (*tenantState, int, bool) {
	for {
		p.mu.Lock()
		for len(p.ready) == 0 && !p.stopped {
			p.cond.Wait()
		}
		if p.stopped {
			p.mu.Unlock()
			return nil, 0, false
		}
		st := p.ready[0]
		p.ready[0] = nil
		p.ready = p.ready[1:]
		st.queued = false
		// Deficit round robin by bytes: each turn earns a quantum; a tenant
		// in debt from a large batch waits for its next turn.
		st.deficit = min(st.deficit+p.o.QuantumBytes, p.o.QuantumBytes)
		if st.deficit <= 0 {
			p.enqueueLocked(st)
			p.mu.Unlock()
			continue
		}
		// Backing off, breaker open, a Retry-After, or its pace: the
		// tenant waits in the timer heap, holding no worker.
		if until := later(st.retryAt, st.pacedUntil); p.o.Now().Before(until) {
			p.scheduleLocked(st, until)
			p.mu.Unlock()
			continue
		}
		st.running = true
		st.notified = 0
		st.pacedUntil = time.Time{}
		failures := st.failures
		p.mu.Unlock()
		return st, failures, true
	}
}

// finishTurn records the outcome of a tenant's turn (backoff after a
// failure, its pace, or a clean slate) and puts the tenant where its next
// turn comes from.
func (p *Pusher) finishTurn(st *tenantState, failures int, tr turn) {
	next := tr.next
	failed := tr.res == failedPush || tr.res == refusedSender

	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case failed:
		next = p.backoffLocked(st, failures, tr.res == refusedSender, tr.retryAfter)
	case tr.res == paced:
		st.pacedUntil = next
		p.notePaceLocked(st, tr.wait)
	default:
		st.failures, st.retryAt, st.since = 0, time.Time{}, time.Time{}
		delete(p.troubled, st.name)
	}
	st.running = false
	st.deficit -= tr.sent
	p.requeueLocked(st, tr, next, failed)
}

// requeueLocked puts a tenant after its turn in the ready queue (more may
// be due), the timer heap (until next), or nowhere until the next Notify;
// a tenant whose buffer went is forgotten.
func (p *Pusher) requeueLocked(st *tenantState, tr turn, next time.Time, failed bool) {
	switch {
	case next.IsZero():
		p.enqueueLocked(st) // more may be due: the next turn reads again
	case next.Equal(idle):
		// nothing more buffered: forget until Notify, unless one came
		// while this push ran
		if st.notified > 0 {
			p.enqueueLocked(st)
		}
	case next.Equal(gone):
		// the buffer was deleted or released: drop the tenant's state
		// (its pace and waits with it)
		if p.tenants[st.name] == st && !st.queued && st.heapIdx < 0 {
			delete(p.tenants, st.name)
			delete(p.troubled, st.name)
			delete(p.paced, st.name)
		}
	case tr.res == paced || failed:
		p.scheduleLocked(st, next)
	default:
		// Waiting for its interval with pending records: Notify
		// counts on from them, so that the batch goes as soon as it
		// is full rather than at the end of the interval.
		st.notified += tr.pending
		if job, ok := p.o.Jobs().Lookup(st.name); ok && tr.pending > 0 && st.notified >= job.Batch.MaxRecords {
			p.enqueueLocked(st) // filled up while this read ran
			break
		}
		p.scheduleLocked(st, next)
	}
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Sentinels runTenant returns: nothing to push now; the buffer is gone.
var (
	idle = time.Unix(0, 1)
	gone = time.Unix(0, 2)
)

// Results of one turn of a tenant.
type result int

const (
	pushed        result = iota // the batch went (or nothing was due)
	failedPush                  // retried with backoff
	refusedSender               // the destination refuses this sender: the breaker opens at once
	paced                       // its pace holds the batch back until next
)

// turn is what one turn of a tenant did.
type turn struct {
	// next is when to look again: zero at its next turn, idle on the next
	// Notify, gone never (the buffer went); ignored for a failure, whose
	// backoff decides.
	next    time.Time
	sent    int // bytes sent
	pending int // records read but left for later (a partial batch before its interval)
	res     result
	// wait: how long its pace holds it (paced); retryAfter: how long the
	// destination's Retry-After asked it to wait, capped (failedPush).
	wait, retryAfter time.Duration
}

// runTenant pushes at most one batch of st.
func (p *Pusher) runTenant(st *tenantState) turn {
	now := p.o.Now()
	job, ok := p.o.Jobs().Lookup(st.name)
	if !ok {
		return turn{next: idle} // its job is gone: data stays buffered (retention applies)
	}
	var pc *pacer
	if p.o.Pace != nil {
		pc = p.pacerFor(st, job.Name, p.o.Pace(job))
	}
	// A pace that holds any push back holds this one: wait before reading.
	if pc != nil {
		if d := pc.wait(now, 1); d > 0 {
			return turn{next: now.Add(d), res: paced, wait: d}
		}
	}
	b, full, notDue := p.readBatch(st, job, now)
	if b == nil {
		return notDue
	}
	if pc != nil {
		// The batch's bytes: read again when the wait is over (holding
		// it would hold a batch per waiting tenant).
		now = p.o.Now()
		if d := pc.wait(now, b.Bytes); d > 0 {
			return turn{next: now.Add(d), res: paced, wait: d}
		}
		pc.take(now, b.Bytes)
	}
	return p.pushBatch(st, job, b, full)
}

// readBatch reads st's next batch and says whether it is full; nil and the
// turn to return when none is due: the buffer is gone or empty, or the
// batch is partial and its interval has not passed.
func (p *Pusher) readBatch(st *tenantState, job *jobs.Job, now time.Time) (*Batch, bool, turn) {
	recs, err := p.o.Store.Read(st.name, p.o.Consumer, job.Batch.MaxRecords, job.Batch.MaxBytes)
	if errors.Is(err, buffers.ErrUnknownTenant) {
		return nil, false, turn{next: gone}
	}
	if err != nil || len(recs) == 0 {
		return nil, false, turn{next: idle}
	}
	b := &Batch{Tenant: st.name, Records: recs}
	for _, r := range recs {
		b.Bytes += len(r.Payload)
	}
	full := len(recs) >= job.Batch.MaxRecords || b.Bytes >= job.Batch.MaxBytes
	oldest := time.Unix(0, recs[0].Timestamp)
	if due := oldest.Add(job.Batch.MaxInterval); !full && now.Before(due) {
		return nil, false, turn{next: due, pending: len(recs)}
	}
	return b, full, turn{}
}

// pushBatch sends b to the job's destination, parks it in the dead-letter
// area when the destination rejects it for good, commits what went or was
// parked, and says what the turn did.
func (p *Pusher) pushBatch(st *tenantState, job *jobs.Job, b *Batch, full bool) turn {
	recs := b.Records
	err := p.pushOne(job, b)
	var perm *PermanentError
	var refused *SenderRefusedError
	var throttled *ThrottledError
	switch {
	case err == nil:
	case errors.As(err, &perm):
		if perr := p.o.DeadLetters.Park(b, err); perr != nil {
			p.fail("dead_letter_write")
			return turn{res: failedPush}
		}
		p.Parked.Add(int64(len(recs)))
		p.fail("rejected")
	case errors.As(err, &refused):
		p.fail(failReason(err))
		return turn{res: refusedSender}
	case errors.As(err, &throttled):
		p.fail(failReason(err))
		return turn{res: failedPush, retryAfter: p.retryAfter(throttled.RetryAfter)}
	default:
		p.fail(failReason(err))
		return turn{res: failedPush}
	}
	if err := p.o.Store.Commit(st.name, p.o.Consumer, b.Next()); err != nil {
		p.fail("commit")
		return turn{res: failedPush}
	}
	if err == nil {
		p.Batches.Add(1)
		p.Bytes.Add(int64(b.Bytes))
		p.Records.Add(int64(len(recs)))
	}
	if !full {
		// The read reached the end of the buffer: nothing more until the
		// next Notify (the worker re-queues if one came meanwhile).
		return turn{next: idle, sent: b.Bytes}
	}
	return turn{sent: b.Bytes}
}

// retryAfter is the wait a destination's Retry-After asks for, capped at
// MaxRetryAfter, and counts its outcome.
func (p *Pusher) retryAfter(ra RetryAfter) time.Duration {
	d, outcome := ra.wait(p.o.Now(), p.o.MaxRetryAfter)
	switch outcome {
	case RetryAfterHonoured:
		p.RetryAfterHonoured.Add(1)
	case RetryAfterCapped:
		p.RetryAfterCapped.Add(1)
	case RetryAfterIgnored:
		p.RetryAfterIgnored.Add(1)
	}
	return d
}

func (p *Pusher) pushOne(job *jobs.Job, b *Batch) error {
	p.destMu.Lock()
	// Destinations are cached per job of the table in force; a reload
	// brings new jobs, so the cache starts over rather than grow.
	if tb := p.o.Jobs(); tb != p.destTable {
		clear(p.dests)
		p.destTable = tb
	}
	d, ok := p.dests[job]
	if !ok {
		d = p.o.NewDestination(job)
		if fd, isFile := d.(*FileDestination); isFile {
			// Batch files carry the store's identity: see FileDestination.
			fd.Origin = p.o.Store.ID()
		}
		p.dests[job] = d
	}
	p.destMu.Unlock()
	ctx := p.ctx
	if job.Destination.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, job.Destination.Timeout)
		defer cancel()
	}
	return d.Push(ctx, b)
}

// backoffLocked doubles the tenant's delay per consecutive failure, and
// opens its breaker (a longer pause) after BreakerFailures of them, or at
// once when the destination refuses the sender (credentials, permissions,
// a wrong address: fixed by a person, not by retrying sooner). A
// Retry-After the destination sent (already capped) makes the delay at
// least that long.
func (p *Pusher) backoffLocked(st *tenantState, before int, openNow bool, retryAfter time.Duration) time.Time {
	st.failures = before + 1
	if openNow && st.failures < p.o.BreakerFailures {
		st.failures = p.o.BreakerFailures
	}
	if st.since.IsZero() {
		st.since = p.o.Now()
	}
	p.troubled[st.name] = st
	d := p.o.BackoffInitial << min(st.failures-1, 20)
	d = min(d, p.o.BackoffMax)
	if st.failures >= p.o.BreakerFailures {
		d = max(d, p.o.BreakerOpen)
		if st.failures == p.o.BreakerFailures {
			p.BreakerOpens.Add(1)
		}
	}
	if retryAfter > 0 {
		d = max(d, retryAfter)
		p.noteRetryAfterLocked(st, retryAfter)
	}
	st.retryAt = p.o.Now().Add(d)
	return st.retryAt
}

func failReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	if s := err.Error(); len(s) == 8 && s[:5] == "http " {
		return "http_" + s[5:]
	}
	return "error"
}

func (p *Pusher) fail(reason string) {
	p.failMu.Lock()
	p.failures[reason]++
	p.failMu.Unlock()
}

// Failures returns failure counts by reason.
func (p *Pusher) Failures() map[string]int64 {
	p.failMu.Lock()
	defer p.failMu.Unlock()
	out := make(map[string]int64, len(p.failures))
	for k, v := range p.failures {
		out[k] = v
	}
	return out
}

// Lag is one tenant's backlog.
type Lag struct {
	Tenant    string
	Bytes     int64         // unpushed bytes in its buffer
	Records   int64         // unpushed records in its buffer
	OldestAge time.Duration // age of the oldest unpushed record
}

// LagOf reports a tenant's backlog (its position to the end of its
// buffer). Bytes and records come from the store's counters; the age costs
// one read of a frame header.
func (p *Pusher) LagOf(tenant string) (Lag, error) {
	l, err := p.o.Store.Lag(tenant, p.o.Consumer)
	if err != nil {
		return Lag{}, err
	}
	out := Lag{Tenant: tenant, Bytes: l.Bytes, Records: l.Records}
	if l.Oldest != 0 {
		out.OldestAge = max(p.o.Now().Sub(time.Unix(0, l.Oldest)), 0)
	}
	return out, nil
}

type timerHeap []*tenantState

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].timerAt.Before(h[j].timerAt) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *timerHeap) Push(x any) {
	st := x.(*tenantState)
	st.heapIdx = len(*h)
	*h = append(*h, st)
}
func (h *timerHeap) Pop() any {
	old := *h
	st := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	st.heapIdx = -1
	return st
}
