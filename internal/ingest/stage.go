package ingest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
)

// Drop reasons, the values of the "reason" attribute of drop counters.
const (
	// ReasonBufferFull: the buffer held max_bytes when the batch came and
	// its service held the most (or, with drop_oldest, the batch was
	// evicted to make room for a newer one of the same service).
	ReasonBufferFull = "buffer_full"
	// ReasonFairShare: the batch's service held the most when the buffer
	// was full, and the batch was evicted to make room for a service
	// holding less (fairshare.go).
	ReasonFairShare = "fair_share"
	// ReasonRefused: the consumer refused the batch with a permanent error.
	ReasonRefused = "refused"
	// ReasonShutdown: still held when the receiver was shut down and the
	// consumer would not take it in time.
	ReasonShutdown = "shutdown"
)

// Retry backoff for a batch refused with a retryable error.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = 250 * time.Millisecond
)

// DrainTimeout bounds how long Shutdown hands what is held to a consumer
// that refuses or stalls, when the caller's context allows longer: the
// collector shuts receivers down without a deadline, and a stop must not
// wait on a dead downstream until the service manager kills the process
// (and with it every count). What is left then is dropped and counted.
const DrainTimeout = 5 * time.Second

// inflightGrace is how long Shutdown, past its deadline, still waits for
// a delivery in progress to return (its context is cancelled), so that
// its records are counted before Shutdown reports.
const inflightGrace = 500 * time.Millisecond

// ErrDropped is passed to a Batch's Done when it was dropped; the error
// passed is a *DropError that says why (errors.Is(err, ErrDropped) holds).
var ErrDropped = errors.New("ingest: batch dropped")

// DropError is what a dropped Batch's Done gets: Reason is one of the
// Reason constants. A journal reader, for one, moves its cursor past a
// batch refused for good but not past one dropped at shutdown.
type DropError struct{ Reason string }

func (e *DropError) Error() string { return "ingest: batch dropped (" + e.Reason + ")" }

// Is makes errors.Is(err, ErrDropped) true.
func (e *DropError) Is(target error) bool { return target == ErrDropped }

// dropErrors are the DropError of each reason, made once.
var dropErrors = map[string]*DropError{
	ReasonBufferFull: {ReasonBufferFull},
	ReasonFairShare:  {ReasonFairShare},
	ReasonRefused:    {ReasonRefused},
	ReasonShutdown:   {ReasonShutdown},
}

func dropError(reason string) error {
	if e, ok := dropErrors[reason]; ok {
		return e
	}
	return &DropError{reason}
}

// Batch is what a reader hands to a Stage.
type Batch struct {
	// Logs is the batch, or, if Build is set, made by Build in the sender
	// goroutine just before the first delivery attempt: a reader hands
	// over raw lines and never spends time parsing (nor parses what is
	// then dropped). The stage owns it from then on: its resource logs may
	// be moved into another batch's request (see coalesce.go).
	Logs  plog.Logs
	Build func() plog.Logs
	// Size is what the batch counts against the bound, in bytes, while it
	// is held (recordcost.go).
	Size int64
	// ParsedSize is what Build's Logs cost beyond Size: counted too while
	// the batch is being delivered, from the moment it is built.
	ParsedSize int64
	// Records is Logs.LogRecordCount(), given by the caller who knows it.
	Records int
	// Key is the service the batch's records belong to (the value of
	// logattr.Service they get), for the fair share of the bound and for
	// drop counts by service; "" for a receiver that does not say (all of
	// its batches then share one holder, as without fair share). Lines
	// sets it when LinesSettings.Identity is set.
	Key string
	// Done, if set, is called once the batch left the stage: with nil when
	// the consumer accepted it, else with the error that dropped it.
	// A journal reader advances its cursor there.
	Done func(error)

	// dones are the Done of the batches merged into this one, in order.
	dones []func(error)
	// parts are the services and record counts of the batches merged into
	// this one when they are not all Key's, so that its drop is counted
	// under each.
	parts []part
	// retry is set once the consumer refused the batch retryably: it is
	// then retried as it is, never merged with what came after it.
	retry bool
}

// build makes Logs from Build once.
func (b *Batch) build() {
	if b.Build != nil {
		b.Logs = b.Build()
		b.Build = nil
	}
}

// StageSettings connects a Stage to the rest of the receiver.
type StageSettings struct {
	Next consumer.Logs
	// ObsReport and Format record accepted/refused per delivery attempt
	// (may be nil).
	ObsReport *receiverhelper.ObsReport
	Format    string
	// OnDrop counts dropped records by reason (may be nil).
	OnDrop func(reason string, records int)
	// OnServiceDrop, if set, is called instead of OnDrop, with the service
	// (Batch.Key) the records belonged to as well: ReaderTelemetry's
	// DroppedByService bounds the label's values.
	OnServiceDrop func(service, reason string, records int)
	// MinBackoff and MaxBackoff bound the pause between retries of a
	// request the consumer refused retryably (defaults 5 ms and 250 ms).
	MinBackoff, MaxBackoff time.Duration
	// Linger is how long the oldest held batch waits for more to merge
	// with it (linger.go), DefaultLinger for readers that hand over a
	// read at a time; 0 sends at once.
	Linger time.Duration
	// Logger, if set, gets one line at shutdown with the records dropped
	// because the consumer did not take them in time.
	Logger *zap.Logger
	// Wait: the reader hands batches over with Put, waiting for room, and
	// the stage never drops one to make room (the journal, whose entries
	// wait in their files). A request's parsed form is then counted on top
	// of what is held, up to max_bytes plus that one request, and Put
	// waits until the held bytes are back under max_bytes. Without Wait,
	// batches are handed over with Offer, and queued ones are evicted to
	// keep the parsed form within max_bytes.
	Wait bool
}

// Stage is a bounded buffer with one sender goroutine. Offer never blocks.
// The sender merges what is waiting into one request (coalesce.go).
type Stage struct {
	cfg BufferConfig
	set StageSettings

	mu sync.Mutex
	// first..last are the held batches in delivery order (fairshare.go);
	// queued is how many.
	first, last *node
	queued      int
	// queuedRecords and queuedBytes are the records and bytes of the
	// queued batches (not of the one being delivered): a full request's
	// worth is sent without lingering (linger.go).
	queuedRecords int
	queuedBytes   int64
	// idle is set while the sender waits with nothing queued: the next
	// batch must wake it (linger.go).
	idle bool
	held int64 // bytes of the queued batches plus the one being delivered
	// holders are the services with queued batches, heap the same ranked
	// by bytes held; free lists let them and the nodes be reused.
	holders     map[string]*holder
	heap        []*holder
	freeHolders []*holder
	freeNodes   []*node
	started     bool
	stopped     bool
	wake        chan struct{} // something to send, capacity 1
	room        chan struct{} // bytes were released, capacity 1
	stopping    chan struct{}
	drainCtx    context.Context
	done        chan struct{}

	// sendCtx is the context of every delivery; cancelled when the
	// shutdown deadline passes, so that a stalled consumer lets go.
	sendCtx    context.Context
	cancelSend context.CancelFunc
	// shutdownDrops counts the records dropped with ReasonShutdown.
	shutdownDrops atomic.Int64
	// group is the sender's reused slice of the batches it merges.
	group []Batch
	// lingerTimer is the sender's, reused, armed only while a batch
	// lingers.
	lingerTimer *time.Timer
	// epoch is when the stage was made: batches' arrival times count from
	// it (8 bytes a held batch instead of a time.Time's 24).
	epoch time.Time
	// wakeups counts the sender's waits that ended, for the test that
	// nothing wakes it while nothing is held.
	wakeups atomic.Int64
}

// NewStage returns a Stage; Start runs its sender.
func NewStage(cfg BufferConfig, set StageSettings) *Stage {
	sendCtx, cancel := context.WithCancel(context.Background())
	return &Stage{
		sendCtx:    sendCtx,
		cancelSend: cancel,
		epoch:      time.Now(),
		cfg:        cfg,
		set:        set,
		holders:    map[string]*holder{},
		wake:       make(chan struct{}, 1),
		room:       make(chan struct{}, 1),
		stopping:   make(chan struct{}),
		done:       make(chan struct{}),
	}
}

// Start runs the sender goroutine.
func (s *Stage) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped {
		return
	}
	s.started = true
	go s.run()
}

// Guards are the stage's safeguards, for the receiver to register with
// internal/guard: the buffer's bound (use: bytes held) and the fair
// share (switched off when buffer.fair_share.enabled is false; use: the
// services with something queued, against max_services).
func (s *Stage) Guards() []guard.Guard {
	return []guard.Guard{
		{Name: "buffer.max_bytes", Limit: s.cfg.MaxBytes, Use: s.Held},
		{
			Name:     "buffer.fair_share.max_services",
			Disabled: !s.cfg.FairShare.IsEnabled(),
			Limit:    int64(s.cfg.FairShare.maxServices()),
			Use:      s.services,
		},
	}
}

// services is how many services have batches queued.
func (s *Stage) services() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.holders))
}

// Held returns the bytes currently held.
func (s *Stage) Held() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// Offer hands a batch to the stage without ever waiting. It reports whether
// the batch was taken; when it was not (or when batches were evicted for
// it: of a service holding more, or with drop_oldest its own older ones)
// the dropped records have been counted.
func (s *Stage) Offer(b Batch) bool {
	s.mu.Lock()
	if s.stopped || b.Size > s.cfg.MaxBytes {
		stopped := s.stopped
		s.mu.Unlock()
		s.drop(b, reasonFor(stopped))
		return false
	}
	var evicted []evictedBatch
	if s.held+b.Size > s.cfg.MaxBytes {
		h := s.holderLocked(b.Key)
		for s.held+b.Size > s.cfg.MaxBytes {
			v := s.victimLocked(h, b.Size)
			if v == nil {
				s.forgetIfEmptyLocked(h)
				s.mu.Unlock()
				s.dropEvicted(evicted)
				s.drop(b, ReasonBufferFull)
				return false
			}
			reason := ReasonFairShare
			if v.h == h {
				reason = ReasonBufferFull
			}
			old := s.unlinkLocked(v)
			s.held -= old.Size
			evicted = append(evicted, evictedBatch{old, reason})
		}
	}
	s.pushBackLocked(b)
	wake := s.wakeLocked()
	s.mu.Unlock()
	s.dropEvicted(evicted)
	if len(evicted) > 0 {
		signal(s.room)
	}
	if wake {
		signal(s.wake)
	}
	return true
}

// evictedBatch is a batch evicted by Offer and why.
type evictedBatch struct {
	b      Batch
	reason string
}

func (s *Stage) dropEvicted(evicted []evictedBatch) {
	for _, e := range evicted {
		s.drop(e.b, e.reason)
	}
}

// Put hands a batch to the stage, waiting for room instead of dropping:
// for a source that can itself wait, such as the journal, on a stage made
// with StageSettings.Wait. It returns ctx.Err() (batch not taken, nothing
// counted) if ctx ends first.
func (s *Stage) Put(ctx context.Context, b Batch) error {
	for {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return ErrDropped
		}
		if s.held+b.Size <= s.cfg.MaxBytes || s.held == 0 {
			s.pushBackLocked(b)
			wake := s.wakeLocked()
			s.mu.Unlock()
			if wake {
				signal(s.wake)
			}
			return nil
		}
		s.mu.Unlock()
		select {
		case <-s.room:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func reasonFor(stopped bool) string {
	if stopped {
		return ReasonShutdown
	}
	return ReasonBufferFull
}

// Shutdown stops taking batches and hands what is held to the consumer,
// retrying what it refuses, until ctx ends or DrainTimeout passes; the
// rest is dropped and counted with ReasonShutdown, and one log line says
// how many. Readers should have stopped offering first; what they offer
// afterwards is counted as dropped too. It returns nil even when the
// deadline passed: what could not be delivered is counted, not an error.
func (s *Stage) Shutdown(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, DrainTimeout)
	defer cancel()
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	s.drainCtx = dctx
	started := s.started
	s.mu.Unlock()
	close(s.stopping)
	if !started {
		// No sender ever ran: count what was offered before Start.
		s.dropHeld()
		s.logShutdownDrops()
		return nil
	}
	select {
	case <-s.done:
	case <-dctx.Done():
		s.cancelSend()
		s.dropHeld()
		t := time.NewTimer(inflightGrace)
		select {
		case <-s.done:
		case <-t.C:
		}
		t.Stop()
	}
	s.cancelSend()
	s.logShutdownDrops()
	return nil
}

// dropHeld counts everything still queued as dropped at shutdown.
func (s *Stage) dropHeld() {
	s.mu.Lock()
	var held []Batch
	for s.first != nil {
		b := s.popLocked()
		s.held -= b.Size
		held = append(held, b)
	}
	s.mu.Unlock()
	s.dropAll(held, ReasonShutdown)
}

func (s *Stage) logShutdownDrops() {
	n := s.shutdownDrops.Load()
	if n == 0 || s.set.Logger == nil {
		return
	}
	s.set.Logger.Warn("shutdown: records still held were not taken by the consumer in time and are dropped (counted in dropped_records with reason shutdown)",
		zap.Int64("records", n), zap.Duration("drain_timeout", DrainTimeout))
}

func (s *Stage) run() {
	defer close(s.done)
	backoff := time.Duration(0)
	minB, maxB := s.backoffBounds()
	for {
		b, ok := s.next()
		if !ok {
			s.drain()
			return
		}
		err := s.deliver(s.sendCtx, b)
		if err == nil || consumererror.IsPermanent(err) {
			s.release(b, err, ReasonRefused)
			backoff = 0
			continue
		}
		// Retryable: hold it again at the front, within the bound (with
		// drop_oldest it can now be evicted), and retry it as it is, merged
		// batches whole, after a pause.
		b.retry = true
		s.mu.Lock()
		s.pushFrontLocked(b)
		s.mu.Unlock()
		backoff = min(max(2*backoff, minB), maxB)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-s.stopping:
			t.Stop()
		}
	}
}

// next waits for a batch, lets it linger for company (linger.go) and
// merges what waits behind it; ok is false once the stage is stopping.
// Its timer runs only while a batch lingers.
func (s *Stage) next() (Batch, bool) {
	for {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return Batch{}, false
		}
		var wait time.Duration
		if s.first != nil {
			if wait = s.lingerLocked(); wait <= 0 {
				group := s.popGroupLocked() // still counted in held while delivered
				s.mu.Unlock()
				return s.built(merge(group)), true
			}
		} else {
			s.idle = true
		}
		s.mu.Unlock()
		var expired <-chan time.Time
		if wait > 0 {
			if s.lingerTimer == nil {
				s.lingerTimer = time.NewTimer(wait)
			} else {
				s.lingerTimer.Reset(wait)
			}
			expired = s.lingerTimer.C
		}
		select {
		case <-s.wake:
		case <-expired:
		case <-s.stopping:
		}
		s.wakeups.Add(1)
		if expired != nil {
			s.lingerTimer.Stop()
		}
	}
}

// drain delivers what is held after Shutdown, retrying what the consumer
// refuses with a retryable error until the drain context ends.
func (s *Stage) drain() {
	for {
		s.mu.Lock()
		if s.first == nil {
			s.mu.Unlock()
			return
		}
		group := s.popGroupLocked()
		ctx := s.drainCtx
		s.mu.Unlock()
		b := s.built(merge(group))
		err := s.deliverUntil(ctx, b)
		reason := ReasonShutdown
		if err != nil && consumererror.IsPermanent(err) {
			reason = ReasonRefused
		}
		s.release(b, err, reason)
	}
}

// built counts a request's parsed form against the bound from now on, as
// part of its Size: it is held so until released, retries included. So
// that the bound holds, queued batches of the largest holders make room
// for it if needed (as for an arriving batch, counted buffer_full); a
// stage made with Wait evicts nothing, its Put waits instead.
func (s *Stage) built(b Batch) Batch {
	if b.ParsedSize == 0 {
		return b
	}
	var evicted []evictedBatch
	s.mu.Lock()
	s.held += b.ParsedSize
	for !s.set.Wait && s.held > s.cfg.MaxBytes && len(s.heap) > 0 {
		top := s.heap[0]
		v := top.last
		if s.cfg.Policy == DropOldest {
			v = top.first
		}
		old := s.unlinkLocked(v)
		s.held -= old.Size
		evicted = append(evicted, evictedBatch{old, ReasonBufferFull})
	}
	s.mu.Unlock()
	s.dropEvicted(evicted)
	b.Size += b.ParsedSize
	b.ParsedSize = 0
	return b
}

func (s *Stage) deliverUntil(ctx context.Context, b Batch) error {
	backoff := time.Duration(0)
	minB, maxB := s.backoffBounds()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := s.deliver(ctx, b)
		if err == nil || consumererror.IsPermanent(err) {
			return err
		}
		backoff = min(max(2*backoff, minB), maxB)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

func (s *Stage) deliver(ctx context.Context, b Batch) error {
	if s.set.ObsReport == nil {
		return s.set.Next.ConsumeLogs(ctx, b.Logs)
	}
	ctx = s.set.ObsReport.StartLogsOp(ctx)
	err := s.set.Next.ConsumeLogs(ctx, b.Logs)
	s.set.ObsReport.EndLogsOp(ctx, s.set.Format, b.Records, err)
	return err
}

// release ends a delivered (err nil) or dropped batch.
func (s *Stage) release(b Batch, err error, reason string) {
	s.mu.Lock()
	s.held -= b.Size
	s.mu.Unlock()
	signal(s.room)
	if err != nil {
		s.drop(b, reason)
		return
	}
	b.finish(nil)
}

func (s *Stage) drop(b Batch, reason string) {
	if reason == ReasonShutdown {
		s.shutdownDrops.Add(int64(b.Records))
	}
	switch {
	case b.Records == 0:
	case s.set.OnServiceDrop != nil && len(b.parts) > 0:
		for _, p := range b.parts {
			s.set.OnServiceDrop(p.key, reason, p.records)
		}
	case s.set.OnServiceDrop != nil:
		s.set.OnServiceDrop(b.Key, reason, b.Records)
	case s.set.OnDrop != nil:
		s.set.OnDrop(reason, b.Records)
	}
	b.finish(dropError(reason))
}

// backoffBounds are the settings' retry pauses, or the defaults.
func (s *Stage) backoffBounds() (lo, hi time.Duration) {
	lo, hi = minBackoff, maxBackoff
	if s.set.MinBackoff > 0 {
		lo = s.set.MinBackoff
	}
	if s.set.MaxBackoff > 0 {
		hi = max(s.set.MaxBackoff, lo)
	}
	return lo, hi
}

func (s *Stage) dropAll(bs []Batch, reason string) {
	for _, b := range bs {
		s.drop(b, reason)
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
