package cfjs1receiver

import (
	"errors"
	"fmt"
	"net"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
)

// Config is the cfjs1 receiver's configuration.
type Config struct {
	// Endpoint is the TCP address to listen on.
	Endpoint string `mapstructure:"endpoint"`
	// TLS, when present, makes the listener TLS (set client_ca_file for mTLS).
	TLS configoptional.Optional[configtls.ServerConfig] `mapstructure:"tls"`
	// MaxConnections bounds concurrent connections; more are closed at once.
	MaxConnections int `mapstructure:"max_connections"`
	// MaxConnectionsPerPeer bounds the concurrent connections of one source
	// IP address, so that one misbehaving host cannot take every slot.
	MaxConnectionsPerPeer int `mapstructure:"max_connections_per_peer"`
	// MaxLineSize bounds a line in bytes; longer lines are dropped and counted.
	MaxLineSize int `mapstructure:"max_line_size"`
	// MaxBufferedBytes bounds the bytes of lines longer than a connection's
	// base buffer held by all connections together; a connection that
	// cannot get its share stops reading (TCP back-pressure) until it can.
	MaxBufferedBytes int64 `mapstructure:"max_buffered_bytes"`
	// IdleTimeout closes a connection that sent nothing for this long.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// HandshakeTimeout bounds the TLS handshake of a new connection.
	HandshakeTimeout time.Duration `mapstructure:"handshake_timeout"`
	// LineTimeout closes a connection whose line is not complete this long
	// after its first byte arrived.
	LineTimeout time.Duration `mapstructure:"line_timeout"`
	// MaxBatchLines bounds the lines handed to the pipeline at once.
	MaxBatchLines int `mapstructure:"max_batch_lines"`
	// Wrappers maps a format to its wrapper field name; when set, a line
	// whose wrapper does not match its format is refused as undecodable.
	Wrappers map[string]string `mapstructure:"wrappers"`
	// Decode bounds what one line may make the decoder build.
	Decode cfjs1.Limits `mapstructure:"decode"`
}

// Validate checks the configuration (the decode group validates itself).
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint %q: write host:port, e.g. 127.0.0.1:5170 (%w)", c.Endpoint, err))
	}
	if c.MaxConnections <= 0 {
		errs = append(errs, errors.New("max_connections must be at least 1 (default 1024)"))
	}
	if c.MaxConnectionsPerPeer <= 0 {
		errs = append(errs, errors.New("max_connections_per_peer must be at least 1 (default 32; a host needs one connection per sending pipeline, not hundreds)"))
	}
	if c.MaxLineSize < 256 || c.MaxLineSize > 64<<20 {
		errs = append(errs, errors.New("max_line_size must be between 256 and 67108864 bytes (default 1048576)"))
	}
	if c.MaxBufferedBytes < int64(c.MaxLineSize) {
		errs = append(errs, fmt.Errorf("max_buffered_bytes must be at least max_line_size (%d), default 268435456: a connection reading a long line needs a line's worth of it", c.MaxLineSize))
	}
	if c.IdleTimeout <= 0 {
		errs = append(errs, errors.New("idle_timeout must be positive, e.g. 5m (a half-open connection must not hold a slot forever)"))
	}
	if c.HandshakeTimeout <= 0 {
		errs = append(errs, errors.New("handshake_timeout must be positive, e.g. 10s (a client that never finishes its TLS handshake must not hold a slot)"))
	}
	if c.LineTimeout <= 0 {
		errs = append(errs, errors.New("line_timeout must be positive, e.g. 30s (a line trickled in a byte at a time must not hold a slot and its memory)"))
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
