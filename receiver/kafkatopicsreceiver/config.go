package kafkatopicsreceiver

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
	"github.com/otelcol-logx/otelcol-logx/internal/kafkaconn"
)

// Encoding is how a Kafka record's value holds log records: what the
// kafkatopics exporter writes.
type Encoding string

// The encodings the kafkatopics exporter writes.
const (
	EncodingCFJS1     Encoding = "cfjs1"
	EncodingOTLPJSON  Encoding = "otlp_json"
	EncodingOTLPProto Encoding = "otlp_proto"
)

// Initial offsets: where a partition the group has no committed offset for
// starts.
const (
	OffsetEarliest = "earliest"
	OffsetLatest   = "latest"
)

// clusterConfig is kafkaconn.Config under a name of this package, so that
// Config embeds it unexported: the collector's validation walk, which
// names the errors of an exported squashed field after its type
// ("config::sasl: ..."), passes it by, and Config.Validate reports them
// under the names the user wrote (brokers, tls, sasl) with
// kafkaconn's ValidateAll. Config.Marshal puts its options back into the
// marshalled config, which leaves unexported fields out.
type clusterConfig = kafkaconn.Config

// Config is the receiver's configuration.
type Config struct {
	// The cluster: brokers, client_id, tls, sasl.
	clusterConfig `mapstructure:",squash"`

	// Topics to consume. With topics_regex each is a regular expression
	// matched against every topic of the cluster (new ones included).
	Topics      []string `mapstructure:"topics"`
	TopicsRegex bool     `mapstructure:"topics_regex"`

	// Group is the consumer group this collector is a member of.
	Group GroupConfig `mapstructure:"group"`
	// Fetch bounds what one poll holds in memory.
	Fetch FetchConfig `mapstructure:"fetch"`
	// Retry paces offering a refused batch again.
	Retry RetryConfig `mapstructure:"retry"`

	// Encoding of the record values (cfjs1 by default).
	Encoding Encoding `mapstructure:"encoding"`
	// CFJS1 is how cfjs1 values are decoded.
	CFJS1 CFJS1Config `mapstructure:"cfjs1"`
}

// GroupConfig is the consumer group.
type GroupConfig struct {
	// ID names the group; collectors with the same ID share the partitions.
	ID string `mapstructure:"id"`
	// SessionTimeout: a member not heard from for this long is out of
	// the group and its partitions move to the others.
	SessionTimeout time.Duration `mapstructure:"session_timeout"`
	// RebalanceTimeout: how long a rebalance waits for members to give
	// up their partitions. A member that is still offering a refused batch
	// to its pipeline holds the rebalance back until then, and is then
	// out of the group (its uncommitted records go to the new owner).
	RebalanceTimeout time.Duration `mapstructure:"rebalance_timeout"`
	// HeartbeatInterval is how often the member tells the group it lives.
	HeartbeatInterval time.Duration `mapstructure:"heartbeat_interval"`
	// InitialOffset is where a partition without a committed offset
	// starts: earliest (default, nothing the topic holds is skipped) or
	// latest.
	InitialOffset string `mapstructure:"initial_offset"`
}

// FetchConfig bounds the memory of fetching.
type FetchConfig struct {
	// MaxPollRecords is the most records handed to the pipeline per poll.
	MaxPollRecords int `mapstructure:"max_poll_records"`
	// MaxBytes is the most bytes one fetch from one broker may return.
	MaxBytes int32 `mapstructure:"max_bytes"`
	// MaxPartitionBytes is the most bytes of one partition per fetch.
	MaxPartitionBytes int32 `mapstructure:"max_partition_bytes"`
}

// RetryConfig paces offering a refused batch again (doubling from
// InitialBackoff up to MaxBackoff). A batch is offered until it is
// accepted or the receiver stops: never skipped.
type RetryConfig struct {
	InitialBackoff time.Duration `mapstructure:"initial_backoff"`
	MaxBackoff     time.Duration `mapstructure:"max_backoff"`
}

// CFJS1Config is how cfjs1 values are decoded.
type CFJS1Config struct {
	// Wrappers maps a format to its wrapper field name; when set, a value
	// whose wrapper is another is dropped (not_a_record).
	Wrappers map[string]string `mapstructure:"wrappers"`
	// Decode bounds what one value may make the decoder build.
	Decode cfjs1.Limits `mapstructure:"decode"`
}

// Validate checks the receiver's own options and the cluster options
// (kafkaconn's ValidateAll: brokers, client_id, tls, sasl); messages say
// what to write instead. The nested groups (group, fetch, retry,
// cfjs1.decode) validate themselves: the collector calls their Validate
// too and puts the group's path in front.
func (c *Config) Validate() error {
	errs := []error{c.ValidateAll()}
	if len(c.Topics) == 0 {
		errs = append(errs, errors.New(`topics: list at least one topic, e.g. ["logs"]`))
	}
	if c.TopicsRegex {
		for _, t := range c.Topics {
			if _, err := regexp.Compile(t); err != nil {
				errs = append(errs, fmt.Errorf("topics: %q is not a regular expression (topics_regex is on): %v", t, err))
			}
		}
	}
	switch c.Encoding {
	case EncodingCFJS1, EncodingOTLPJSON, EncodingOTLPProto:
	default:
		errs = append(errs, fmt.Errorf("encoding %q: write cfjs1, otlp_json or otlp_proto", c.Encoding))
	}
	return errors.Join(errs...)
}

// Marshal writes c as the collector marshals a config, the options of the
// unexported clusterConfig included.
func (c Config) Marshal(conf *confmap.Conf) error {
	type options Config // Config's fields without this method
	if err := conf.Marshal(options(c)); err != nil {
		return err
	}
	return conf.Marshal(c.clusterConfig)
}

// Validate checks the group options.
func (g *GroupConfig) Validate() error {
	var errs []error
	if g.ID == "" {
		errs = append(errs, errors.New("id: name the consumer group, e.g. otelcol-logx-tenants; collectors with the same id share the partitions"))
	}
	if g.SessionTimeout < time.Second || g.RebalanceTimeout < time.Second {
		errs = append(errs, errors.New("session_timeout and rebalance_timeout: at least 1s (defaults 45s and 60s)"))
	}
	if g.HeartbeatInterval <= 0 || g.HeartbeatInterval >= g.SessionTimeout {
		errs = append(errs, errors.New("heartbeat_interval: positive and below session_timeout (default 3s)"))
	}
	if g.InitialOffset != OffsetEarliest && g.InitialOffset != OffsetLatest {
		errs = append(errs, fmt.Errorf("initial_offset %q: write earliest or latest", g.InitialOffset))
	}
	return grouperr.Join(errs...)
}

// Validate checks the fetch bounds.
func (f *FetchConfig) Validate() error {
	var errs []error
	if f.MaxPollRecords <= 0 || f.MaxPollRecords > 1_000_000 {
		errs = append(errs, errors.New("max_poll_records: between 1 and 1000000 (default 5000)"))
	}
	if f.MaxBytes <= 0 || f.MaxPartitionBytes <= 0 || f.MaxPartitionBytes > f.MaxBytes {
		errs = append(errs, errors.New("max_bytes and max_partition_bytes: positive, and max_partition_bytes not above max_bytes (defaults 16MiB and 1MiB)"))
	}
	return grouperr.Join(errs...)
}

// Validate checks the back-off.
func (r *RetryConfig) Validate() error {
	if r.InitialBackoff <= 0 || r.MaxBackoff < r.InitialBackoff {
		return errors.New("initial_backoff: positive, and max_backoff not below it (defaults 100ms and 5s)")
	}
	return nil
}
