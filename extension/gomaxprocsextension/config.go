package gomaxprocsextension

import (
	"errors"
	"fmt"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
)

// Config of the gomaxprocs extension.
type Config struct {
	// Min is the fewest procs the process runs with (when quiet).
	Min int `mapstructure:"min"`
	// Max is the most procs it runs with (when busy); 0 is the GOMAXPROCS
	// the process started with: the runtime's default (the CPUs it may
	// use, cgroup CPU limit included) or the GOMAXPROCS environment
	// variable.
	Max int `mapstructure:"max"`
	// Interval is how often the process's CPU time is looked at: how long
	// a busy process may run short of procs.
	Interval time.Duration `mapstructure:"interval"`
	// ScaleUp says when to add procs.
	ScaleUp ScaleUpConfig `mapstructure:"scale_up"`
	// ScaleDown says when to take procs away.
	ScaleDown ScaleDownConfig `mapstructure:"scale_down"`
}

// ScaleUpConfig: procs are doubled (up to max) after an interval in which
// the process used at least Utilization of the procs it had.
type ScaleUpConfig struct {
	Utilization float64 `mapstructure:"utilization"`
}

// ScaleDownConfig: procs are lowered once the process has used, for After
// in a row, at most Utilization of fewer procs: to the fewest that would
// have kept it at or under Utilization.
type ScaleDownConfig struct {
	Utilization float64       `mapstructure:"utilization"`
	After       time.Duration `mapstructure:"after"`
}

// Validate checks the options that relate to each other; each group checks
// its own.
func (c *Config) Validate() error {
	var errs []error
	if c.Min < 1 {
		errs = append(errs, errors.New("min must be at least 1: write e.g. min: 1"))
	}
	if c.Max < 0 || (c.Max > 0 && c.Max < c.Min) {
		errs = append(errs, fmt.Errorf("max must be 0 (the GOMAXPROCS the process started with) or at least min (%d): write e.g. max: 0", c.Min))
	}
	if c.Interval < 10*time.Millisecond || c.Interval > 10*time.Second {
		errs = append(errs, errors.New("interval must be between 10ms and 10s: write e.g. interval: 1s"))
	}
	if c.ScaleDown.Utilization >= c.ScaleUp.Utilization {
		errs = append(errs, fmt.Errorf("scale_down.utilization must be below scale_up.utilization (%g), or the procs would go up and down by turns: write e.g. scale_down.utilization: %g",
			c.ScaleUp.Utilization, c.ScaleUp.Utilization*0.8))
	}
	if c.ScaleDown.After < c.Interval {
		errs = append(errs, fmt.Errorf("scale_down.after must be at least interval (%s): write e.g. scale_down.after: 5s", c.Interval))
	}
	return errors.Join(errs...)
}

// Validate checks the scale_up group.
func (c *ScaleUpConfig) Validate() error {
	if c.Utilization <= 0 || c.Utilization > 1 {
		return errors.New("utilization must be above 0 and at most 1 (all of the procs busy): write e.g. 0.75")
	}
	return nil
}

// Validate checks the scale_down group.
func (c *ScaleDownConfig) Validate() error {
	var errs []error
	if c.Utilization <= 0 || c.Utilization >= 1 {
		errs = append(errs, errors.New("utilization must be above 0 and below 1: write e.g. 0.6"))
	}
	if c.After <= 0 || c.After > time.Hour {
		errs = append(errs, errors.New("after must be between 0s (exclusive) and 1h: write e.g. 5s"))
	}
	return grouperr.Join(errs...)
}
