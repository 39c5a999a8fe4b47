// Package lagsignal carries one signal from the readers to whoever
// sizes the process (the gomaxprocs extension): a reader has found its
// source backed up several reads in a row, so the process needs more
// threads now, not at that one's next look at the CPU time. A process that
// runs on one thread while quiet would otherwise, under a sudden flood,
// leave its readers unscheduled long enough to block their writers.
package lagsignal // import "github.com/otelcol-logx/otelcol-logx/internal/lagsignal"

import "sync/atomic"

var listener atomic.Pointer[chan struct{}]

// Raise tells the listener, if there is one, that a reader lags. It never
// waits: a signal already pending is enough.
func Raise() {
	if c := listener.Load(); c != nil {
		select {
		case *c <- struct{}{}:
		default:
		}
	}
}

// Listen returns the channel the signals arrive on, and stop, which ends
// them. The process has one listener: a later Listen takes over.
func Listen() (signals <-chan struct{}, stop func()) {
	c := make(chan struct{}, 1)
	listener.Store(&c)
	return c, func() { listener.CompareAndSwap(&c, nil) }
}

// Reads is how many reads in a row that filled what they were given make
// a reader lag: its source is backed up, not just bursty.
const Reads = 4

// Run counts a reader's full reads in a row and raises the signal once per
// run of Reads. Each reader has its own; it is not safe for concurrent use.
type Run struct{ full int }

// Read tells the run whether the last read filled what it was given.
func (r *Run) Read(full bool) {
	if !full {
		r.full = 0
		return
	}
	if r.full++; r.full == Reads {
		Raise()
	}
}
