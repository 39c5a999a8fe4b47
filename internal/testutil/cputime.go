package testutil

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// ThreadCPU returns the CPU time (user + system) the calling OS thread has
// used so far. It means something only between runtime.LockOSThread and
// UnlockOSThread, as inside MeasureThreadCPU.
func ThreadCPU() time.Duration {
	// The thread CPU clock counts in nanoseconds; getrusage's figure for a
	// thread moves in scheduler ticks, too coarse for a few milliseconds.
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// MeasureThreadCPU runs fn with its goroutine locked to one OS thread and
// returns the CPU time that thread spent. Cost-per-byte tests compare such
// figures: unlike wall time they leave out the time other programs held
// the CPU, and unlike the process's CPU time they leave out other
// goroutines and the background garbage collector, so the comparison
// stays steady on a loaded, shared machine.
func MeasureThreadCPU(fn func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	from := ThreadCPU()
	fn()
	return ThreadCPU() - from
}

// ProcessCPU returns the CPU time (user + system) of the whole process so
// far: every goroutine, the garbage collector and, in a benchmark with an
// in-process server, the server too.
func ProcessCPU() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}
