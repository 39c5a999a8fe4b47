package sdnotifyextension

import (
	"errors"
	"fmt"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
)

// Config of the sdnotify extension. The service manager's side (the
// socket, the watchdog interval) comes from the environment systemd sets:
// $NOTIFY_SOCKET, $WATCHDOG_USEC, $WATCHDOG_PID.
type Config struct {
	// Watchdog tunes the liveness check that gates the watchdog pings.
	Watchdog WatchdogConfig `mapstructure:"watchdog"`
}

// WatchdogConfig tunes the liveness check.
type WatchdogConfig struct {
	// RecoverableErrorGrace is how long a component may stay in a
	// recoverable error (e.g. the memory limiter refusing data) before
	// the pings stop, and systemd restarts the collector. A permanent or
	// fatal error stops them at once.
	RecoverableErrorGrace time.Duration `mapstructure:"recoverable_error_grace"`
	// HeartbeatInterval is how often the extension reports its own status
	// through the collector's status reporter and waits for it to come
	// back: the round trip proves that the service's event path and the
	// Go scheduler still run.
	HeartbeatInterval time.Duration `mapstructure:"heartbeat_interval"`
	// HeartbeatTimeout is how old the last completed round trip may be
	// before the pings stop.
	HeartbeatTimeout time.Duration `mapstructure:"heartbeat_timeout"`
}

// Validate checks the watchdog group; the collector puts the group's path
// ("watchdog: ") in front. The extension's Config has no option of its own
// and so no Validate: the collector validates the group on its own.
func (c *WatchdogConfig) Validate() error {
	var errs []error
	if c.RecoverableErrorGrace < 0 || c.RecoverableErrorGrace > 24*time.Hour {
		errs = append(errs, errors.New("recoverable_error_grace must be between 0s (a recoverable error stops the pings at once) and 24h: write e.g. 5m"))
	}
	if c.HeartbeatInterval < 10*time.Millisecond || c.HeartbeatInterval > time.Minute {
		errs = append(errs, errors.New("heartbeat_interval must be between 10ms and 1m: write e.g. 2s"))
	}
	if c.HeartbeatTimeout < 2*c.HeartbeatInterval {
		errs = append(errs, fmt.Errorf("heartbeat_timeout must be at least twice heartbeat_interval (%s), so that one late round trip does not stop the pings: write e.g. heartbeat_timeout: %s",
			c.HeartbeatInterval, max(10*time.Second, 5*c.HeartbeatInterval)))
	}
	return grouperr.Join(errs...)
}
