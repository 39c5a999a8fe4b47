package cfjs1exporter

import (
	"errors"
	"fmt"
	"net"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
)

// Modes of sending.
const (
	// ModeAll sends every record to every endpoint; a down endpoint's
	// records go to the others as dead-letter copies marked for it.
	ModeAll = "all"
	// ModeFailover sends every record to the first healthy endpoint.
	ModeFailover = "failover"
)

// Config is the cfjs1 exporter's configuration.
type Config struct {
	// Endpoints in priority order.
	Endpoints []EndpointConfig `mapstructure:"endpoints"`
	// Mode is "all" or "failover".
	Mode string `mapstructure:"mode"`
	// FormatAttribute is the record attribute that holds the format.
	FormatAttribute string `mapstructure:"format_attribute"`
	// DefaultFormat is used when a record has no such attribute.
	DefaultFormat string `mapstructure:"default_format"`
	// Wrappers maps a format to its wrapper field (default: the format).
	Wrappers map[string]string `mapstructure:"wrappers"`
	// MaxLineSize is the longest line sent, newline excluded: the
	// receivers' max_line_size. A record whose line (dead-letter mark
	// included, in mode all) would be longer is dropped and counted.
	MaxLineSize int `mapstructure:"max_line_size"`

	Connection ConnectionConfig `mapstructure:"connection"`
	Ack        AckConfig        `mapstructure:"ack"`
	Failback   FailbackConfig   `mapstructure:"failback"`

	// Timeout bounds one attempt to deliver a batch (all endpoints and
	// dead-letter copies included); exporterhelper retries after it.
	Timeout     time.Duration                                            `mapstructure:"timeout"`
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	RetryOnFail configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`
}

// EndpointConfig is one receiver of the lines.
type EndpointConfig struct {
	// Name identifies the endpoint in dead-letter marks and telemetry.
	Name string `mapstructure:"name"`
	// Endpoint is host:port.
	Endpoint string `mapstructure:"endpoint"`
	// TLS, when present, makes the connection TLS (cert_file/key_file for mTLS).
	TLS configoptional.Optional[configtls.ClientConfig] `mapstructure:"tls"`
	// Ack overrides ack.enabled for this endpoint (false for a plain
	// receiver such as syslog-ng or socat).
	Ack *bool `mapstructure:"ack"`
}

// ConnectionConfig bounds how long a dead or half-alive peer can hold on.
type ConnectionConfig struct {
	ConnectTimeout time.Duration `mapstructure:"connect_timeout"`
	WriteTimeout   time.Duration `mapstructure:"write_timeout"`
	// KeepAlive is the idle time before TCP keepalive probes and the
	// interval between them; KeepAliveCount probes unanswered close it.
	KeepAlive      time.Duration `mapstructure:"keepalive"`
	KeepAliveCount int           `mapstructure:"keepalive_count"`
	// UserTimeout is TCP_USER_TIMEOUT: how long sent data may stay
	// unacknowledged by the peer's kernel before the connection is dropped.
	UserTimeout time.Duration `mapstructure:"user_timeout"`
}

// AckConfig is the cfjs1 acknowledgement protocol (docs/cfjs1.md).
type AckConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Timeout is how long a line may wait for its ack.
	Timeout time.Duration `mapstructure:"timeout"`
	// Window bounds the lines in flight per connection.
	Window int `mapstructure:"window"`
	// HeartbeatInterval is how often an idle connection is pinged.
	HeartbeatInterval time.Duration `mapstructure:"heartbeat_interval"`
}

// FailbackConfig is how a down endpoint comes back.
type FailbackConfig struct {
	InitialBackoff time.Duration `mapstructure:"initial_backoff"`
	MaxBackoff     time.Duration `mapstructure:"max_backoff"`
	// HealthyFor is how long a reconnected endpoint must stay healthy
	// before it is used again.
	HealthyFor time.Duration `mapstructure:"healthy_for"`
}

// Validate checks the exporter's own options and what spans endpoints
// (unique names, the dead-letter mark's room in a line). The nested groups
// (each endpoint, connection, ack, failback, sending_queue) validate
// themselves: the collector calls their Validate too and puts the group's
// path in front.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Endpoints) == 0 {
		errs = append(errs, errors.New("endpoints: list at least one, e.g. [{name: log-a, endpoint: \"log-a.example:5170\"}, {name: log-b, endpoint: \"log-b.example:5170\"}]"))
	}
	seen := map[string]bool{}
	for i, e := range c.Endpoints {
		if e.Name != "" && seen[e.Name] {
			errs = append(errs, fmt.Errorf("endpoints[%d]: name %q is used twice: names must be unique", i, e.Name))
		}
		seen[e.Name] = true
	}
	if c.Mode != ModeAll && c.Mode != ModeFailover {
		errs = append(errs, fmt.Errorf("mode %q: write %q or %q", c.Mode, ModeAll, ModeFailover))
	}
	if c.FormatAttribute == "" || c.DefaultFormat == "" {
		errs = append(errs, errors.New("format_attribute and default_format must not be empty (defaults: cfjs1.format, syslog)"))
	}
	for f, w := range c.Wrappers {
		if f == "" || w == "" {
			errs = append(errs, fmt.Errorf("wrappers: %q: %q: write format: wrapper_field, both not empty", f, w))
		}
	}
	if c.MaxLineSize < minLineSize || c.MaxLineSize > maxLineSize {
		errs = append(errs, fmt.Errorf("max_line_size %d: write a size between %d and %d bytes, equal to the receivers' max_line_size (default %d)", c.MaxLineSize, minLineSize, maxLineSize, defaultMaxLineSize))
	} else if room := c.deadLetterRoom(); c.MaxLineSize-room < minLineSize {
		errs = append(errs, fmt.Errorf("max_line_size %d leaves less than %d bytes once a dead-letter mark (%d bytes for the longest endpoint name) is added: raise it or shorten the names", c.MaxLineSize, minLineSize, room))
	}
	errs = append(errs, positive("timeout", c.Timeout))
	return errors.Join(errs...)
}

// Validate checks one endpoint's name and address; the collector puts its
// path ("endpoints::0: ") in front.
func (e EndpointConfig) Validate() error {
	var errs []error
	if e.Name == "" {
		errs = append(errs, errors.New("write a name, e.g. log-a (it marks dead-letter copies)"))
	}
	if _, _, err := net.SplitHostPort(e.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint %q: write host:port (%w)", e.Endpoint, err))
	}
	return grouperr.Join(errs...)
}

// Validate checks the connection's bounds; the collector puts the group's
// path ("connection: ") in front.
func (c ConnectionConfig) Validate() error {
	errs := []error{
		positive("connect_timeout", c.ConnectTimeout),
		positive("write_timeout", c.WriteTimeout),
		positive("keepalive", c.KeepAlive),
		positive("user_timeout", c.UserTimeout),
	}
	if c.KeepAliveCount <= 0 {
		errs = append(errs, errors.New("keepalive_count must be at least 1 (default 3)"))
	}
	return grouperr.Join(errs...)
}

// Validate checks the ack protocol's bounds; the collector puts the group's
// path ("ack: ") in front.
func (a AckConfig) Validate() error {
	errs := []error{positive("timeout", a.Timeout), positive("heartbeat_interval", a.HeartbeatInterval)}
	if a.Window <= 0 {
		errs = append(errs, errors.New("window must be at least 1 line (default 20000)"))
	}
	return grouperr.Join(errs...)
}

// Validate checks the failback backoff and hysteresis; the collector puts
// the group's path ("failback: ") in front.
func (f FailbackConfig) Validate() error {
	errs := []error{positive("initial_backoff", f.InitialBackoff)}
	if f.MaxBackoff < f.InitialBackoff {
		errs = append(errs, errors.New("max_backoff must be at least initial_backoff"))
	}
	if f.HealthyFor < 0 {
		errs = append(errs, errors.New("healthy_for must not be negative (default 10s)"))
	}
	return grouperr.Join(errs...)
}

// positive refuses a wait that is not positive.
func positive(name string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s must be positive (an unbounded wait is how a half-alive peer hangs the pipeline)", name)
	}
	return nil
}

// Bounds of max_line_size: those of the cfjs1 receiver's option, whose
// default is the exporter's.
const (
	minLineSize        = 256
	maxLineSize        = 64 << 20
	defaultMaxLineSize = 1 << 20
)

// ackFor says whether endpoint e uses acks.
func (c *Config) ackFor(e EndpointConfig) bool {
	if e.Ack != nil {
		return *e.Ack
	}
	return c.Ack.Enabled
}

// concurrentBatches is how many batches the exporter may be asked to send
// at once: one per sending_queue consumer (one without a queue, as the
// pipeline calls it).
func (c *Config) concurrentBatches() int {
	if !c.QueueConfig.HasValue() {
		return 1
	}
	return c.QueueConfig.Get().NumConsumers
}
