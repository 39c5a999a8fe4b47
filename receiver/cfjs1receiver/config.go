package cfjs1receiver

import (
	"errors"
	"fmt"
	"net"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
)

// Config is the cfjs1 receiver's configuration.
type Config struct {
	// Endpoint is the TCP address to listen on.
	Endpoint string `mapstructure:"endpoint"`
	// TLS, when present, makes the listener TLS (set client_ca_file for mTLS).
	TLS configoptional.Optional[configtls.ServerConfig] `mapstructure:"tls"`
	// MaxConnections bounds concurrent connections; more are closed at once.
	MaxConnections int `mapstructure:"max_connections"`
	// MaxLineSize bounds a line in bytes; longer lines are dropped and counted.
	MaxLineSize int `mapstructure:"max_line_size"`
	// IdleTimeout closes a connection that sent nothing for this long.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// MaxBatchLines bounds the lines handed to the pipeline at once.
	MaxBatchLines int `mapstructure:"max_batch_lines"`
	// Wrappers maps a format to its wrapper field name; when set, a line
	// whose wrapper does not match its format is refused as undecodable.
	Wrappers map[string]string `mapstructure:"wrappers"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint %q: write host:port, e.g. 127.0.0.1:5170 (%w)", c.Endpoint, err))
	}
	if c.MaxConnections <= 0 {
		errs = append(errs, errors.New("max_connections must be at least 1 (default 1024)"))
	}
	if c.MaxLineSize < 256 || c.MaxLineSize > 64<<20 {
		errs = append(errs, errors.New("max_line_size must be between 256 and 67108864 bytes (default 1048576)"))
	}
	if c.IdleTimeout <= 0 {
		errs = append(errs, errors.New("idle_timeout must be positive, e.g. 5m (a half-open connection must not hold a slot forever)"))
	}
	if c.MaxBatchLines <= 0 || c.MaxBatchLines > 100000 {
		errs = append(errs, errors.New("max_batch_lines must be between 1 and 100000 (default 1000)"))
	}
	for f, w := range c.Wrappers {
		if f == "" || w == "" {
			errs = append(errs, fmt.Errorf("wrappers: %q: %q: write format: wrapper_field, both not empty", f, w))
		}
	}
	return errors.Join(errs...)
}
