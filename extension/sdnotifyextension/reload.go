package sdnotifyextension

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// reloadSignalWait bounds how long NotReady waits for a SIGHUP it has not
// seen yet: the collector and this extension receive each signal on their
// own channels, and the collector may act on it first.
const reloadSignalWait = 20 * time.Millisecond

// reloadSignals tells a reload from a stop. The collector reloads its
// config on SIGHUP by shutting the whole service down and starting a new
// one, which calls NotReady and Shutdown exactly as a stop does. Telling
// systemd STOPPING=1 then would be harmful: systemd takes it as the
// service stopping by itself and kills it after TimeoutStopSec. So the
// extension keeps the SIGHUPs not yet answered, process-wide (the instance
// that sees the signal is shut down by it), and each NotReady that finds
// one is a reload (RELOADING=1), every other one a stop.
//
// Not every SIGHUP shuts the service down: with partial reloads, a refused,
// unchanged or receivers-only config leaves it running. Such a SIGHUP must
// not turn a later stop into a "reload", so a termination signal (SIGTERM,
// SIGINT) answers every pending SIGHUP, and a SIGHUP no shutdown followed
// within reloadSignalTTL is forgotten.
type reloadSignals struct {
	mu      sync.Mutex
	pending []time.Time   // arrival of each SIGHUP not yet answered, oldest first
	arrived chan struct{} // closed and replaced on every signal
	now     func() time.Time
}

// reloadSignalTTL is how long a SIGHUP waits for the shutdown it causes.
// The collector starts that shutdown as soon as it reads the signal; a
// minute covers a slow drain of the previous reload.
const reloadSignalTTL = time.Minute

// maxPendingReloads bounds the SIGHUPs remembered (a loop sending SIGHUP
// must not grow memory).
const maxPendingReloads = 16

var (
	processReloads     *reloadSignals
	processReloadsOnce sync.Once
)

// processReloadSignals returns the process's SIGHUP counter, watching
// SIGHUP (and the termination signals) from the first call on. Every
// channel registered for a signal gets its own copy, so watching them too
// changes nothing about what the collector does with them.
func processReloadSignals() *reloadSignals {
	processReloadsOnce.Do(func() {
		processReloads = newReloadSignals()
		ch := make(chan os.Signal, 8)
		signal.Notify(ch, syscall.SIGHUP, syscall.SIGTERM, os.Interrupt)
		go processReloads.watch(ch)
	})
	return processReloads
}

// watch counts the signals ch delivers, for the life of the process. A
// named method: tests that check for leaked goroutines ignore it by name.
func (r *reloadSignals) watch(ch <-chan os.Signal) {
	for sig := range ch {
		if sig == syscall.SIGHUP {
			r.signal()
		} else {
			r.terminate()
		}
	}
}

func newReloadSignals() *reloadSignals {
	return &reloadSignals{arrived: make(chan struct{}), now: time.Now}
}

// signal records one reload request.
func (r *reloadSignals) signal() {
	r.mu.Lock()
	if len(r.pending) == maxPendingReloads {
		r.pending = r.pending[1:]
	}
	r.pending = append(r.pending, r.now())
	close(r.arrived)
	r.arrived = make(chan struct{})
	r.mu.Unlock()
}

// takeReload reports whether a reload request is unanswered, answering
// it; if none is, it waits up to wait for one to arrive.
func (r *reloadSignals) takeReload(wait time.Duration) bool {
	if r.take() {
		return true
	}
	r.mu.Lock()
	arrived := r.arrived
	r.mu.Unlock()
	if r.take() {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-arrived:
		return r.take()
	case <-t.C:
		return false
	}
}

// terminate records a termination signal: the shutdown that follows is a
// stop, whatever SIGHUPs came before it.
func (r *reloadSignals) terminate() {
	r.mu.Lock()
	r.pending = r.pending[:0]
	r.mu.Unlock()
}

func (r *reloadSignals) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	cutoff := r.now().Add(-reloadSignalTTL)
	for len(r.pending) > 0 && r.pending[0].Before(cutoff) {
		r.pending = r.pending[1:]
	}
	if len(r.pending) == 0 {
		return false
	}
	r.pending = r.pending[1:]
	return true
}
