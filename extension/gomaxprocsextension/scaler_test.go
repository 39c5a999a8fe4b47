package gomaxprocsextension

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// step is one interval: the procs the process used in it, and the procs
// the scaler must answer.
type step struct {
	used float64
	want int
}

func runSteps(t *testing.T, s *scaler, interval time.Duration, steps []step) {
	t.Helper()
	for i, st := range steps {
		cpu := time.Duration(st.used * float64(interval))
		assert.Equal(t, st.want, s.observe(cpu, interval), "step %d: %.2f procs used", i, st.used)
	}
}

func TestScaler(t *testing.T) {
	cfg := createDefaultConfig().(*Config) // up 0.75, down 0.6 after 5s
	cfg.ScaleDown.After = time.Second
	const iv = 250 * time.Millisecond
	for _, tc := range []struct {
		name       string
		procs, max int
		steps      []step
	}{
		{name: "busy one proc doubles at once", procs: 1, max: 8, steps: []step{
			{0.8, 2}, {1.6, 4}, {3.5, 8}, {8, 8},
		}},
		{name: "up stops at max", procs: 2, max: 3, steps: []step{{1.9, 3}, {3, 3}}},
		{name: "below the up mark stays", procs: 1, max: 2, steps: []step{{0.74, 1}, {0.5, 1}}},
		{name: "quiet for after, then down", procs: 2, max: 2, steps: []step{
			{0.1, 2}, {0.1, 2}, {0.1, 2}, {0.1, 1}, {0.1, 1},
		}},
		{name: "a busy interval restarts the quiet time", procs: 2, max: 2, steps: []step{
			{0.1, 2}, {0.1, 2}, {0.1, 2}, {0.9, 2}, {0.1, 2}, {0.1, 2}, {0.1, 2}, {0.1, 1},
		}},
		{name: "down to what the busiest quiet interval needed", procs: 8, max: 8, steps: []step{
			{0.5, 8}, {2.9, 8}, {1, 8}, {0.2, 5},
		}},
		{name: "never below min", procs: 2, max: 2, steps: []step{
			{0, 2}, {0, 2}, {0, 2}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1},
		}},
		{name: "between the marks nothing moves", procs: 2, max: 4, steps: []step{
			{0.61, 2}, {0.61, 2}, {0.61, 2}, {0.61, 2}, {1.4, 2}, {1.5, 4},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, newScaler(cfg, tc.procs, tc.max), iv, tc.steps)
		})
	}
}

func TestScalerMinAboveOne(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Min = 2
	cfg.ScaleDown.After = 250 * time.Millisecond
	runSteps(t, newScaler(cfg, 4, 4), 250*time.Millisecond, []step{{0, 2}, {0, 2}})
}

func TestScalerIgnoresEmptyInterval(t *testing.T) {
	s := newScaler(createDefaultConfig().(*Config), 1, 2)
	assert.Equal(t, 1, s.observe(time.Second, 0))
}

func TestScalerLagging(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.ScaleDown.After = 500 * time.Millisecond
	s := newScaler(cfg, 1, 4)
	assert.Equal(t, 2, s.lagging())
	assert.Equal(t, 4, s.lagging())
	assert.Equal(t, 4, s.lagging(), "never above max")
	// Quiet afterwards: down as after any other rise.
	runSteps(t, s, 250*time.Millisecond, []step{{0.1, 4}, {0.1, 1}})
}
