package externaljsonprocessor

import (
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// cpuClock sums the process's CPU time (user + system, all threads, GC
// included) over the timed parts of a benchmark. On a shared machine wall
// time also counts the time other programs held the CPU; CPU time does not.
type cpuClock struct {
	total time.Duration
	from  time.Duration
}

func (c *cpuClock) start() { c.from = testutil.ProcessCPU() }
func (c *cpuClock) stop()  { c.total += testutil.ProcessCPU() - c.from }
