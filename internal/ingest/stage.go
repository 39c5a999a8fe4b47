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
)

// Drop reasons, the values of the "reason" attribute of drop counters.
const (
	// ReasonBufferFull: the buffer held max_bytes when the batch came (or,
	// with drop_oldest, the batch was evicted to make room).
	ReasonBufferFull = "buffer_full"
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

// ErrDropped is passed to a Batch's Done when it was dropped.
var ErrDropped = errors.New("ingest: batch dropped")

// Batch is what a reader hands to a Stage.
type Batch struct {
	// Logs is the batch, or, if Build is set, made by Build in the sender
	// goroutine just before the first delivery attempt: a reader hands
	// over raw lines and never spends time parsing (nor parses what is
	// then dropped). The stage owns it from then on: its resource logs may
	// be moved into another batch's request (see coalesce.go).
	Logs  plog.Logs
	Build func() plog.Logs
	// Size is what the batch counts against the bound, in bytes.
	Size int64
	// Records is Logs.LogRecordCount(), given by the caller who knows it.
	Records int
	// Done, if set, is called once the batch left the stage: with nil when
	// the consumer accepted it, else with the error that dropped it.
	// A journal reader advances its cursor there.
	Done func(error)

	// dones are the Done of the batches merged into this one, in order.
	dones []func(error)
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
	// Logger, if set, gets one line at shutdown with the records dropped
	// because the consumer did not take them in time.
	Logger *zap.Logger
}

// Stage is a bounded buffer with one sender goroutine. Offer never blocks.
// The sender merges what is waiting into one request (coalesce.go).
type Stage struct {
	cfg BufferConfig
	set StageSettings

	mu       sync.Mutex
	queue    []Batch
	head     int   // queue[head:] is held, oldest first
	held     int64 // bytes of queue[head:] plus the batch being delivered
	started  bool
	stopped  bool
	wake     chan struct{} // something to send, capacity 1
	room     chan struct{} // bytes were released, capacity 1
	stopping chan struct{}
	drainCtx context.Context
	done     chan struct{}

	// sendCtx is the context of every delivery; cancelled when the
	// shutdown deadline passes, so that a stalled consumer lets go.
	sendCtx    context.Context
	cancelSend context.CancelFunc
	// shutdownDrops counts the records dropped with ReasonShutdown.
	shutdownDrops atomic.Int64
	// group is the sender's reused slice of the batches it merges.
	group []Batch
}

// NewStage returns a Stage; Start runs its sender.
func NewStage(cfg BufferConfig, set StageSettings) *Stage {
	sendCtx, cancel := context.WithCancel(context.Background())
	return &Stage{
		sendCtx:    sendCtx,
		cancelSend: cancel,
		cfg:        cfg,
		set:        set,
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

// Held returns the bytes currently held.
func (s *Stage) Held() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// Offer hands a batch to the stage without ever waiting. It reports whether
// the batch was taken; when it was not (or when, with drop_oldest, older
// batches were evicted for it) the dropped records have been counted.
func (s *Stage) Offer(b Batch) bool {
	var evicted []Batch
	s.mu.Lock()
	if s.stopped || b.Size > s.cfg.MaxBytes {
		s.mu.Unlock()
		s.drop(b, reasonFor(s.stopped))
		return false
	}
	for s.held+b.Size > s.cfg.MaxBytes {
		if s.cfg.Policy != DropOldest || s.head == len(s.queue) {
			s.mu.Unlock()
			s.dropAll(evicted, ReasonBufferFull)
			s.drop(b, ReasonBufferFull)
			return false
		}
		old := s.popLocked()
		s.held -= old.Size
		evicted = append(evicted, old)
	}
	s.queue = append(s.queue, b)
	s.held += b.Size
	s.mu.Unlock()
	s.dropAll(evicted, ReasonBufferFull)
	signal(s.wake)
	return true
}

// Put hands a batch to the stage, waiting for room instead of dropping:
// for a source that can itself wait, such as the journal. It returns
// ctx.Err() (batch not taken, nothing counted) if ctx ends first.
func (s *Stage) Put(ctx context.Context, b Batch) error {
	for {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return ErrDropped
		}
		if s.held+b.Size <= s.cfg.MaxBytes || s.held == 0 {
			s.queue = append(s.queue, b)
			s.held += b.Size
			s.mu.Unlock()
			signal(s.wake)
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
	for s.head < len(s.queue) {
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
		backoff = min(max(2*backoff, minBackoff), maxBackoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-s.stopping:
			t.Stop()
		}
	}
}

// next waits for a batch and merges what waits behind it; ok is false
// once the stage is stopping.
func (s *Stage) next() (Batch, bool) {
	for {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return Batch{}, false
		}
		if s.head < len(s.queue) {
			group := s.popGroupLocked() // still counted in held while delivered
			s.mu.Unlock()
			return merge(group), true
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-s.stopping:
		}
	}
}

// drain delivers what is held after Shutdown, retrying what the consumer
// refuses with a retryable error until the drain context ends.
func (s *Stage) drain() {
	for {
		s.mu.Lock()
		if s.head == len(s.queue) {
			s.mu.Unlock()
			return
		}
		group := s.popGroupLocked()
		ctx := s.drainCtx
		s.mu.Unlock()
		b := merge(group)
		err := s.deliverUntil(ctx, b)
		reason := ReasonShutdown
		if err != nil && consumererror.IsPermanent(err) {
			reason = ReasonRefused
		}
		s.release(b, err, reason)
	}
}

func (s *Stage) deliverUntil(ctx context.Context, b Batch) error {
	backoff := time.Duration(0)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := s.deliver(ctx, b)
		if err == nil || consumererror.IsPermanent(err) {
			return err
		}
		backoff = min(max(2*backoff, minBackoff), maxBackoff)
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
	if s.set.OnDrop != nil && b.Records > 0 {
		s.set.OnDrop(reason, b.Records)
	}
	b.finish(ErrDropped)
}

func (s *Stage) dropAll(bs []Batch, reason string) {
	for _, b := range bs {
		s.drop(b, reason)
	}
}

func (s *Stage) popLocked() Batch {
	b := s.queue[s.head]
	s.queue[s.head] = Batch{}
	s.head++
	if s.head == len(s.queue) {
		s.queue, s.head = s.queue[:0], 0
	} else if s.head > 64 && s.head > len(s.queue)/2 {
		n := copy(s.queue, s.queue[s.head:])
		clear(s.queue[n:])
		s.queue, s.head = s.queue[:n], 0
	}
	return b
}

func (s *Stage) pushFrontLocked(b Batch) {
	if s.head > 0 {
		s.head--
		s.queue[s.head] = b
		return
	}
	s.queue = append(s.queue, Batch{})
	copy(s.queue[1:], s.queue)
	s.queue[0] = b
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
