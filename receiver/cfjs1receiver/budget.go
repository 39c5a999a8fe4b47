package cfjs1receiver

import (
	"context"
	"sync"
)

// byteBudget is max_buffered_bytes, shared by every connection. Waiters
// are served in arrival order, so a connection that needs a whole line's
// worth is not starved by a stream of smaller requests.
type byteBudget struct {
	mu      sync.Mutex
	free    int64
	held    int64
	waiters []*budgetWaiter
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed once the bytes are granted
}

func newByteBudget(total int64) *byteBudget {
	return &byteBudget{free: total}
}

// acquire takes n bytes, waiting until they are free or ctx is done. It
// reports whether it had to wait; onWait, if not nil, is called when the
// wait begins.
func (b *byteBudget) acquire(ctx context.Context, n int64, onWait func()) (waited bool, err error) {
	b.mu.Lock()
	if len(b.waiters) == 0 && b.free >= n {
		b.take(n)
		b.mu.Unlock()
		return false, nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	if onWait != nil {
		onWait()
	}
	select {
	case <-w.ready:
		return true, nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready: // granted while giving up: hand the bytes back
		b.put(n)
	default:
		for i, o := range b.waiters {
			if o == w {
				b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
				break
			}
		}
		b.grant() // the head may have been the one that did not fit
	}
	return true, ctx.Err()
}

// release returns n bytes taken by acquire.
func (b *byteBudget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.put(n)
	b.mu.Unlock()
}

// heldBytes is what connections hold now.
func (b *byteBudget) heldBytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held
}

func (b *byteBudget) take(n int64) {
	b.free -= n
	b.held += n
}

func (b *byteBudget) put(n int64) {
	b.free += n
	b.held -= n
	b.grant()
}

// grant serves waiters from the head while their requests fit.
func (b *byteBudget) grant() {
	for len(b.waiters) > 0 && b.waiters[0].n <= b.free {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.take(w.n)
		close(w.ready)
	}
}
