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
// extension counts SIGHUPs, process-wide (the instance that sees the
// signal is shut down by it), and each NotReady that finds a SIGHUP not
// yet answered is a reload (RELOADING=1), every other one a stop.
type reloadSignals struct {
	mu       sync.Mutex
	received uint64
	answered uint64
	arrived  chan struct{} // closed and replaced on every signal
}

var (
	processReloads     *reloadSignals
	processReloadsOnce sync.Once
)

// processReloadSignals returns the process's SIGHUP counter, watching
// SIGHUP from the first call on. The collector itself always handles
// SIGHUP, so watching it too changes nothing about what the signal does.
func processReloadSignals() *reloadSignals {
	processReloadsOnce.Do(func() {
		processReloads = newReloadSignals()
		ch := make(chan os.Signal, 8)
		signal.Notify(ch, syscall.SIGHUP)
		go func() {
			for range ch {
				processReloads.signal()
			}
		}()
	})
	return processReloads
}

func newReloadSignals() *reloadSignals {
	return &reloadSignals{arrived: make(chan struct{})}
}

// signal records one reload request.
func (r *reloadSignals) signal() {
	r.mu.Lock()
	r.received++
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

func (r *reloadSignals) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.received > r.answered {
		r.answered++
		return true
	}
	return false
}
