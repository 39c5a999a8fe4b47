package externaljsonprocessor

import (
	"syscall"
	"time"
)

// cpuClock sums the process's CPU time (user + system, all threads, GC
// included) over the timed parts of a benchmark. On a shared machine wall
// time also counts the time other programs held the CPU; CPU time does not.
type cpuClock struct {
	total time.Duration
	from  time.Duration
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (c *cpuClock) start() { c.from = processCPU() }
func (c *cpuClock) stop()  { c.total += processCPU() - c.from }
