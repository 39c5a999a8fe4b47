package fanoutconnector

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pipeline"

	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
)

// Defaults: a backlog per destination of at most 64 MiB or 10000 batches,
// retried from 50 ms up to every second, drained for up to 5 s at shutdown.
const (
	defaultMaxBytes        = 64 << 20
	defaultMaxBatches      = 10000
	defaultInitialInterval = 50 * time.Millisecond
	defaultMaxInterval     = time.Second
	defaultDrainTimeout    = 5 * time.Second
)

// Config of the fanout connector. The destinations are the pipelines that
// list the connector among their receivers.
type Config struct {
	// Backlog bounds what is kept for each destination that refused
	// batches the others took.
	Backlog BacklogConfig `mapstructure:"backlog"`
	// Retry paces the background deliveries from a backlog.
	Retry RetryConfig `mapstructure:"retry"`
	// DrainTimeout bounds how long Shutdown keeps delivering the backlogs;
	// what is left then is dropped and counted with reason shutdown.
	DrainTimeout time.Duration `mapstructure:"drain_timeout"`
	// Required names destination pipelines (e.g. logs/kafka) that must
	// take a batch before the connector takes it: when one refuses, the
	// refusal goes back to the caller (who keeps the batch and offers it
	// again, or, as a cfjs1 receiver, does not acknowledge it), and no
	// backlog is kept for it. For a destination whose copy is the one the
	// sender is told about. Empty: any destination taking a batch is
	// enough.
	Required []string `mapstructure:"required"`
}

// BacklogConfig bounds each destination's backlog. Both bounds hold: once
// either is reached, the oldest batches go (counted) to make room.
type BacklogConfig struct {
	// MaxBytes bounds the protobuf size of the batches held, per
	// destination. The memory they take is a few times more.
	MaxBytes int64 `mapstructure:"max_bytes"`
	// MaxBatches bounds the number of batches held, per destination.
	MaxBatches int `mapstructure:"max_batches"`
}

// RetryConfig is the backoff of backlog deliveries: doubled after every
// refusal from InitialInterval up to MaxInterval, reset by a success.
type RetryConfig struct {
	InitialInterval time.Duration `mapstructure:"initial_interval"`
	MaxInterval     time.Duration `mapstructure:"max_interval"`
}

func createDefaultConfig() *Config {
	return &Config{
		Backlog: BacklogConfig{MaxBytes: defaultMaxBytes, MaxBatches: defaultMaxBatches},
		Retry: RetryConfig{
			InitialInterval: defaultInitialInterval,
			MaxInterval:     defaultMaxInterval,
		},
		DrainTimeout: defaultDrainTimeout,
	}
}

// Validate checks the backlog bounds; the collector puts the group's path
// ("backlog: ") in front.
func (c BacklogConfig) Validate() error {
	var errs []error
	if c.MaxBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("max_bytes is %d: write at least 1048576 (1 MiB, room for a batch), e.g. %d for 64 MiB", c.MaxBytes, defaultMaxBytes))
	}
	if c.MaxBatches < 1 {
		errs = append(errs, fmt.Errorf("max_batches is %d: write a positive number, e.g. %d", c.MaxBatches, defaultMaxBatches))
	}
	return grouperr.Join(errs...)
}

// Validate checks the backoff; the collector puts the group's path
// ("retry: ") in front.
func (c RetryConfig) Validate() error {
	if c.InitialInterval <= 0 {
		return fmt.Errorf("initial_interval is %s: write a positive duration, e.g. %s", c.InitialInterval, defaultInitialInterval)
	}
	if c.MaxInterval < c.InitialInterval {
		return fmt.Errorf("max_interval (%s) is shorter than initial_interval (%s): write at least %s", c.MaxInterval, c.InitialInterval, c.InitialInterval)
	}
	return nil
}

// Validate checks the drain bound and the required pipelines' names; the
// nested groups check themselves. That a required pipeline is one of the
// connector's destinations is checked when the pipelines are built.
func (c *Config) Validate() error {
	if c.DrainTimeout <= 0 {
		return fmt.Errorf("drain_timeout is %s: write a positive duration, e.g. %s (0 would drop every backlog at shutdown)", c.DrainTimeout, defaultDrainTimeout)
	}
	for _, name := range c.Required {
		var id pipeline.ID
		if err := id.UnmarshalText([]byte(name)); err != nil {
			return fmt.Errorf("required: %q is not a pipeline id (%v): write one like logs/kafka", name, err)
		}
	}
	return nil
}
