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
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_THREAD, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
