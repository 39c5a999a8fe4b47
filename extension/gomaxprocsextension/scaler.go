package gomaxprocsextension

import (
	"math"
	"time"
)

// scaler decides how many procs the process runs with from the CPU time it
// used. It is pure arithmetic, fed by the extension's loop (and by tests).
type scaler struct {
	min, max  int
	up, down  float64
	downAfter time.Duration

	procs int
	// quiet is how long the process has stayed quiet enough for fewer
	// procs, and fewest the most it needed in that time.
	quiet  time.Duration
	fewest int
}

func newScaler(cfg *Config, procs, max int) *scaler {
	return &scaler{
		min: cfg.Min, max: max,
		up: cfg.ScaleUp.Utilization, down: cfg.ScaleDown.Utilization,
		downAfter: cfg.ScaleDown.After,
		procs:     procs,
	}
}

// observe takes the CPU time the process used in elapsed wall time and
// returns the procs it should run with from now on.
//
// Up is quick and large (doubled after one busy interval): a process short
// of procs falls behind its writers, and what it cannot read waits in
// kernel buffers that are small. Down is slow and exact (after downAfter
// of quiet, to what the busiest moment of that time needed): a procs too
// many only costs a little CPU.
func (s *scaler) observe(cpu, elapsed time.Duration) int {
	if elapsed <= 0 {
		return s.procs
	}
	used := cpu.Seconds() / elapsed.Seconds() // in procs
	if used >= s.up*float64(s.procs) && s.procs < s.max {
		return s.lagging()
	}
	need := max(s.min, int(math.Ceil(used/s.down)))
	if need >= s.procs {
		s.quiet = 0
		return s.procs
	}
	if s.quiet == 0 {
		s.fewest = need
	}
	s.fewest = max(s.fewest, need)
	s.quiet += elapsed
	if s.quiet >= s.downAfter {
		s.procs = s.fewest
		s.quiet = 0
	}
	return s.procs
}

// lagging doubles the procs (up to max) and restarts the quiet time: after
// a busy interval, and at once on a reader's word that it lags (its source
// is backed up), whatever the last interval showed. The next intervals
// decide as usual, so a short flood costs scale_down.after of procs too
// many, nothing more.
func (s *scaler) lagging() int {
	if s.procs < s.max {
		s.procs = min(s.max, 2*s.procs)
		s.quiet = 0
	}
	return s.procs
}
