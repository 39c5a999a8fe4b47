package fanoutconnector

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
)

// inflightGrace is how long Shutdown, past the drain deadline, still waits
// for a backlog delivery in progress to return (its context is cancelled),
// so that its records are counted one way or the other before Shutdown
// returns.
const inflightGrace = 500 * time.Millisecond

// batch is one batch held for a destination.
type batch struct {
	logs    plog.Logs
	records int
	bytes   int64
}

// backlog holds, in order, the batches one destination refused (or that
// arrived while it had a backlog) after another destination took them, and
// delivers them in the background with backoff. It is bounded in bytes and
// batches; to make room it evicts the oldest batches.
type backlog struct {
	dest   *destination
	limits BacklogConfig
	retry  RetryConfig

	mu       sync.Mutex
	items    []batch
	head     int   // items[head:] are held, oldest first
	bytes    int64 // of items[head:]
	inflight bool  // items[head] is being delivered: not evictable
	started  bool
	stopped  bool
	drain    <-chan struct{} // closed when the drain time is up; set by shutdown

	wake     chan struct{} // something was added, capacity 1
	stopping chan struct{}
	done     chan struct{}

	// sendCtx is the context of every background delivery, cancelled when
	// the drain time is up so that a stalled destination lets go.
	sendCtx    context.Context
	cancelSend context.CancelFunc
}

func newBacklog(d *destination, limits BacklogConfig, retry RetryConfig) *backlog {
	ctx, cancel := context.WithCancel(context.Background())
	return &backlog{
		dest:       d,
		limits:     limits,
		retry:      retry,
		wake:       make(chan struct{}, 1),
		stopping:   make(chan struct{}),
		done:       make(chan struct{}),
		sendCtx:    ctx,
		cancelSend: cancel,
	}
}

// start runs the delivering goroutine.
func (b *backlog) start() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started || b.stopped {
		return
	}
	b.started = true
	go b.run()
}

// busy reports whether the destination has a backlog (a delivery from it
// in progress included): new batches for it must then go behind.
func (b *backlog) busy() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.head < len(b.items)
}

// held returns the bytes and batches held.
func (b *backlog) held() (bytes, batches int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bytes, int64(len(b.items) - b.head)
}

// add puts a batch at the end of the backlog, evicting the oldest batches
// (not the one being delivered) when a bound would be passed. What cannot
// be kept is counted as dropped.
func (b *backlog) add(it batch) {
	var evicted []batch
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		b.dest.dropped(it.records, reasonShutdown)
		return
	}
	if it.bytes > b.limits.MaxBytes {
		b.mu.Unlock()
		b.dest.dropped(it.records, reasonBacklogFull)
		return
	}
	for b.full(it.bytes) {
		old, ok := b.oldestLocked()
		if !ok {
			// Only the batch in delivery is left and still no room.
			b.mu.Unlock()
			b.dropAll(evicted, reasonBacklogFull)
			b.dest.dropped(it.records, reasonBacklogFull)
			return
		}
		evicted = append(evicted, old)
	}
	b.items = append(b.items, it)
	b.bytes += it.bytes
	b.mu.Unlock()
	b.dropAll(evicted, reasonBacklogFull)
	b.dest.backlogged(it.records)
	signal(b.wake)
}

func (b *backlog) full(adding int64) bool {
	return b.bytes+adding > b.limits.MaxBytes || len(b.items)-b.head+1 > b.limits.MaxBatches
}

// oldestLocked takes out the oldest batch that is not in delivery; ok is
// false when there is none.
func (b *backlog) oldestLocked() (batch, bool) {
	if !b.inflight {
		if b.head == len(b.items) {
			return batch{}, false
		}
		return b.popHeadLocked(), true
	}
	if b.head+1 >= len(b.items) {
		return batch{}, false
	}
	// Take the one behind the batch in delivery: move that batch up into
	// its slot, so that it stays at the head.
	it := b.items[b.head+1]
	b.items[b.head+1] = b.items[b.head]
	b.items[b.head] = batch{}
	b.head++
	b.bytes -= it.bytes
	b.compactLocked()
	return it, true
}

// popHeadLocked takes out items[head].
func (b *backlog) popHeadLocked() batch {
	it := b.items[b.head]
	b.bytes -= it.bytes
	b.items[b.head] = batch{}
	b.head++
	b.compactLocked()
	return it
}

// compactLocked reuses the front of the slice once half of it is spent.
func (b *backlog) compactLocked() {
	switch {
	case b.head == len(b.items):
		b.items, b.head = b.items[:0], 0
	case b.head > 64 && b.head > len(b.items)/2:
		n := copy(b.items, b.items[b.head:])
		clear(b.items[n:])
		b.items, b.head = b.items[:n], 0
	}
}

// run delivers the backlog in order: the oldest batch until the
// destination takes it (or refuses it for good), backing off between
// refusals. After shutdown it keeps going until the backlog is empty or the
// drain time is up.
func (b *backlog) run() {
	defer close(b.done)
	var backoff time.Duration
	for {
		it, ok := b.front()
		if !ok {
			return
		}
		err := b.dest.deliverHeld(b.sendCtx, it.logs)
		if err == nil || consumererror.IsPermanent(err) {
			b.finishFront(err)
			backoff = 0
			continue
		}
		b.mu.Lock()
		b.inflight = false // evictable again while waiting
		b.mu.Unlock()
		b.dest.retried()
		backoff = min(max(2*backoff, b.retry.InitialInterval), b.retry.MaxInterval)
		if !b.pause(backoff) {
			// The drain time is up. Shutdown counts what is left too, but
			// may have done so while this batch was in delivery.
			b.dropHeld()
			return
		}
	}
}

// front waits for a batch and marks it in delivery; ok is false once the
// backlog is stopping and empty, or the drain time is up.
func (b *backlog) front() (batch, bool) {
	for {
		b.mu.Lock()
		if b.stopped && (b.head == len(b.items) || isClosed(b.drain)) {
			b.mu.Unlock()
			return batch{}, false
		}
		if b.head < len(b.items) {
			b.inflight = true
			it := b.items[b.head]
			b.mu.Unlock()
			return it, true
		}
		b.mu.Unlock()
		select {
		case <-b.wake:
		case <-b.stopping:
		}
	}
}

// finishFront ends the batch in delivery: taken (err nil) or refused for
// good (counted as dropped).
func (b *backlog) finishFront(err error) {
	b.mu.Lock()
	it := b.popHeadLocked()
	b.inflight = false
	b.mu.Unlock()
	if err != nil {
		b.dest.dropped(it.records, reasonRefused)
		return
	}
	b.dest.delivered(it.records)
}

// pause waits d; false means the drain time ran out meanwhile. A shutdown
// cuts the wait short once, so that draining starts at once.
func (b *backlog) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	b.mu.Lock()
	drain := b.drain
	b.mu.Unlock()
	if drain == nil {
		select {
		case <-t.C:
			return true
		case <-b.stopping:
			b.mu.Lock()
			drain = b.drain
			b.mu.Unlock()
			return !isClosed(drain)
		}
	}
	select {
	case <-t.C:
		return true
	case <-drain:
		return false
	}
}

// shutdown stops taking batches and lets the delivering goroutine drain
// the backlog until drain is closed; what is left then is dropped and
// counted with reason shutdown.
func (b *backlog) shutdown(drain <-chan struct{}) {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	b.stopped = true
	b.drain = drain
	started := b.started
	b.mu.Unlock()
	close(b.stopping)
	if started {
		select {
		case <-b.done:
		case <-drain:
			b.cancelSend()
			t := time.NewTimer(inflightGrace)
			select {
			case <-b.done:
			case <-t.C:
			}
			t.Stop()
		}
	}
	b.cancelSend()
	b.dropHeld()
}

// dropHeld counts what is still held (but a batch still in delivery,
// which its delivery settles) as dropped at shutdown.
func (b *backlog) dropHeld() {
	var left []batch
	b.mu.Lock()
	for {
		it, ok := b.oldestLocked()
		if !ok {
			break
		}
		left = append(left, it)
	}
	b.mu.Unlock()
	b.dropAll(left, reasonShutdown)
}

func (b *backlog) dropAll(its []batch, reason string) {
	for _, it := range its {
		b.dest.dropped(it.records, reason)
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func isClosed(c <-chan struct{}) bool {
	if c == nil {
		return false
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}
