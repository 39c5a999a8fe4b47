package kafkaconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
)

// Config is where the cluster is and how to authenticate to it. Components
// embed it with `mapstructure:",squash"`, so its options sit at the top of
// theirs.
type Config struct {
	// Brokers are seed brokers, host:port; an entry may hold several,
	// comma-separated (so one environment variable can list them all).
	Brokers []string `mapstructure:"brokers"`
	// ClientID names the client in the brokers' logs and quotas.
	ClientID string `mapstructure:"client_id"`
	// TLS, when set, encrypts (and with a client certificate,
	// authenticates) every connection.
	TLS configoptional.Optional[configtls.ClientConfig] `mapstructure:"tls"`
	// SASL, when set, authenticates the client.
	SASL configoptional.Optional[SASLConfig] `mapstructure:"sasl"`
}

// SASLConfig authenticates the client.
type SASLConfig struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism string              `mapstructure:"mechanism"`
	Username  string              `mapstructure:"username"`
	Password  configopaque.String `mapstructure:"password"`
}

// BrokerList is the brokers, comma-separated entries split.
func (c *Config) BrokerList() []string {
	var out []string
	for _, entry := range c.Brokers {
		for b := range strings.SplitSeq(entry, ",") {
			if b = strings.TrimSpace(b); b != "" {
				out = append(out, b)
			}
		}
	}
	return out
}

// ValidateAll checks c and its tls and sasl groups, each group's problems
// under its name ("sasl: mechanism ..."), each problem once: what the
// components that embed Config call from their own Validate. They embed it
// unexported, so the collector's validation walk passes it by; it would
// name the errors of an exported squashed field after its type
// ("config::sasl: ...") and report tls's twice (configtls.ClientConfig
// squashes configtls.Config, whose Validate the walk reaches both ways).
func (c *Config) ValidateAll() error {
	errs := []error{c.Validate()}
	if t := c.TLS.Get(); t != nil {
		if err := t.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("tls: %w", err))
		}
	}
	if s := c.SASL.Get(); s != nil {
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("sasl: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Validate checks the brokers and the client id; messages say what to write
// instead. ValidateAll checks the tls and sasl groups too.
func (c *Config) Validate() error {
	var errs []error
	if len(c.BrokerList()) == 0 {
		errs = append(errs, errors.New(`brokers: list at least one broker, e.g. ["127.0.0.1:9092"]`))
	}
	for _, b := range c.BrokerList() {
		if _, _, err := net.SplitHostPort(b); err != nil {
			errs = append(errs, fmt.Errorf("brokers: %q: write host:port, e.g. kafka-1:9092", b))
		}
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("client_id: must not be empty (default otelcol-logx)"))
	}
	return errors.Join(errs...)
}

// Validate checks the mechanism and that both credentials are set;
// ValidateAll puts the group's name ("sasl: ") in front.
func (s *SASLConfig) Validate() error {
	var errs []error
	switch s.Mechanism {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
	default:
		errs = append(errs, fmt.Errorf("mechanism %q: write PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Mechanism))
	}
	if s.Username == "" || s.Password == "" {
		errs = append(errs, errors.New("username and password are both required"))
	}
	return grouperr.Join(errs...)
}

// ClientOptions are the franz-go options that reach the cluster: seeds,
// client id, logger (named franz-go under logger), TLS and SASL.
func (c *Config) ClientOptions(ctx context.Context, logger *zap.Logger) ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.BrokerList()...),
		kgo.ClientID(c.ClientID),
		kgo.WithLogger(Logger{L: logger.Named("franz-go")}),
	}
	if t := c.TLS.Get(); t != nil {
		tc, err := t.LoadTLSConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		if tc != nil {
			opts = append(opts, kgo.DialTLSConfig(tc))
		}
	}
	if s := c.SASL.Get(); s != nil {
		switch s.Mechanism {
		case "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: s.Username, Pass: string(s.Password)}.AsMechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: s.Username, Pass: string(s.Password)}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: s.Username, Pass: string(s.Password)}.AsSha512Mechanism()))
		default:
			return nil, fmt.Errorf("sasl.mechanism %s is not supported", s.Mechanism)
		}
	}
	return opts, nil
}
