package kafkatopicsexporter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-logx/otelcol-logx/internal/attrtemplate"
	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
	"github.com/otelcol-logx/otelcol-logx/internal/kafkaconn"
)

// clusterConfig is kafkaconn.Config under a name of this package, so that
// Config embeds it unexported: the collector's validation walk, which
// names the errors of an exported squashed field after its type
// ("config::sasl: ..."), passes it by, and Config.Validate reports them
// under the names the user wrote (brokers, tls, sasl) with
// kafkaconn's ValidateAll. Config.Marshal puts its options back into the
// marshalled config, which leaves unexported fields out.
type clusterConfig = kafkaconn.Config

// Config is the kafkatopics exporter's configuration.
type Config struct {
	// The cluster: brokers, client_id, tls, sasl (shared with the
	// kafkatopics receiver).
	clusterConfig `mapstructure:",squash"`
	// Producer tunes the Kafka producer.
	Producer ProducerConfig `mapstructure:"producer"`
	// Topics chooses each record's topic.
	Topics TopicsConfig `mapstructure:"topics"`
	// Partition chooses each record's key and partition.
	Partition PartitionConfig `mapstructure:"partition"`
	// PartitionBacklog keeps a partition that fails from holding up the
	// others: its records wait in a bounded backlog of their own.
	PartitionBacklog PartitionBacklogConfig `mapstructure:"partition_backlog"`
	// Encoding is how a record becomes a Kafka message value: cfjs1,
	// otlp_json or otlp_proto.
	Encoding Encoding `mapstructure:"encoding"`
	// CFJS1 configures the cfjs1 encoding.
	CFJS1 CFJS1Config `mapstructure:"cfjs1"`

	// Timeout bounds one export call (all its records).
	Timeout time.Duration `mapstructure:"timeout"`
	// QueueConfig is exporterhelper's sending queue; set storage to a
	// file_storage extension to make it persistent.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	// RetryConfig is exporterhelper's retry of retriable failures.
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`
}

// ProducerConfig tunes the producer.
type ProducerConfig struct {
	// Acks is all (every in-sync replica), leader, or none.
	Acks string `mapstructure:"acks"`
	// Idempotent makes retries inside the client free of duplicates and
	// reordering; it needs acks: all.
	Idempotent bool `mapstructure:"idempotent"`
	// Compression is zstd, lz4, snappy, gzip or none.
	Compression string `mapstructure:"compression"`
	// Linger is how long a partition's batch waits for more records.
	Linger time.Duration `mapstructure:"linger"`
	// MaxBatchBytes bounds one record batch (one partition, one request).
	MaxBatchBytes int `mapstructure:"max_batch_bytes"`
	// MaxMessageBytes bounds one record's key plus value; larger records are
	// dropped and counted before they are produced.
	MaxMessageBytes int `mapstructure:"max_message_bytes"`
	// MaxBufferedRecords bounds the records the client holds unacknowledged.
	MaxBufferedRecords int `mapstructure:"max_buffered_records"`
	// DeliveryTimeout is how long the client keeps retrying one record
	// before failing it back to the exporter's retry and queue.
	DeliveryTimeout time.Duration `mapstructure:"delivery_timeout"`
	// AllowAutoTopicCreation lets the broker create a missing topic (when
	// the broker allows it too).
	AllowAutoTopicCreation bool `mapstructure:"allow_auto_topic_creation"`
}

// TopicsConfig chooses the topic of each record.
type TopicsConfig struct {
	// Data is the topic template of ordinary records.
	Data string `mapstructure:"data"`
	// DeadLetter is the topic template of dead-letter copies: records that
	// carry cfjs1.dead_letter_for.
	DeadLetter string `mapstructure:"dead_letter"`
	// Fallback is the topic of records for which Data has a missing
	// placeholder or renders an invalid topic name, and of records whose
	// topic is not allowed or does not exist. Empty: use what Data renders
	// with its fallbacks, and drop (counted) records whose topic is not
	// allowed or does not exist.
	Fallback string `mapstructure:"fallback"`
	// Allowed, when not empty, lists the topics records may go to: exact
	// names, or prefixes ending in '*' ("logs-*"). Topic names come from
	// record data; this bounds them to what the cluster is meant to hold.
	Allowed []string `mapstructure:"allowed"`
	// RefreshInterval is how often the names of the topics that exist are
	// read from the brokers (once at start, then in the background). A
	// record whose topic is not among them is not produced to it.
	RefreshInterval time.Duration `mapstructure:"refresh_interval"`
	// MaxKnown bounds how many existing topic names are kept.
	MaxKnown int `mapstructure:"max_known"`
}

// PartitionConfig chooses the key and the partition.
type PartitionConfig struct {
	// Key is the record key template; empty means no key.
	Key string `mapstructure:"key"`
	// Mode is key (records of one key share a partition, in order) or
	// balanced (records spread over partitions whatever their key).
	Mode PartitionMode `mapstructure:"mode"`
}

// PartitionBacklogConfig bounds the per-partition backlogs (backlog.go).
type PartitionBacklogConfig struct {
	// Enabled turns the backlogs on. Off, an export call waits for every
	// record, and one partition that does not answer holds every call.
	Enabled bool `mapstructure:"enabled"`
	// FailingAfter is how long an export call waits while no
	// acknowledgement comes: then the partitions of its unanswered records
	// are failing, and those records are left to their backlogs.
	FailingAfter time.Duration `mapstructure:"failing_after"`
	// Policy says where new records of a failing partition go: wait (in
	// its backlog, in order) or redirect (to another partition of the
	// topic, counted; records of one key are then out of order).
	Policy BacklogPolicy `mapstructure:"policy"`
	// MaxRecords and MaxBytes bound one partition's backlog (key + value
	// bytes and 256 bytes of bookkeeping a record); MaxTotalBytes all of
	// them; MaxPartitions how many partitions
	// may hold a backlog at once (and so the metrics' cardinality).
	MaxRecords    int   `mapstructure:"max_records"`
	MaxBytes      int64 `mapstructure:"max_bytes"`
	MaxTotalBytes int64 `mapstructure:"max_total_bytes"`
	MaxPartitions int   `mapstructure:"max_partitions"`
}

// BacklogPolicy is where the new records of a failing partition go.
type BacklogPolicy string

// The backlog policies.
const (
	BacklogWait     BacklogPolicy = "wait"
	BacklogRedirect BacklogPolicy = "redirect"
)

// Validate checks the backlog bounds when the backlogs are on; the collector
// puts the group's path ("partition_backlog: ") in front.
func (b *PartitionBacklogConfig) Validate() error {
	if !b.Enabled {
		return nil
	}
	var errs []error
	if b.FailingAfter < 10*time.Millisecond || b.FailingAfter > time.Minute {
		errs = append(errs, fmt.Errorf("failing_after %s: write a duration between 10ms and 1m, e.g. 250ms (longer than the brokers' slowest healthy answer)", b.FailingAfter))
	}
	switch b.Policy {
	case BacklogWait, BacklogRedirect:
	default:
		errs = append(errs, fmt.Errorf("policy %q: write wait (in order, behind the backlog) or redirect (to another partition, out of order)", b.Policy))
	}
	if b.MaxRecords < 1 || b.MaxRecords > maxBacklogRecordsLimit {
		errs = append(errs, fmt.Errorf("max_records %d: write a count between 1 and %d (default 500000)", b.MaxRecords, maxBacklogRecordsLimit))
	}
	if b.MaxBytes < 1024 {
		errs = append(errs, fmt.Errorf("max_bytes %d: write at least 1024 (default 268435456, 256 MiB)", b.MaxBytes))
	}
	if b.MaxTotalBytes < b.MaxBytes {
		errs = append(errs, fmt.Errorf("max_total_bytes %d: write at least max_bytes (%d) (default 536870912, 512 MiB)", b.MaxTotalBytes, b.MaxBytes))
	}
	if b.MaxPartitions < 1 || b.MaxPartitions > maxBacklogPartitionsLimit {
		errs = append(errs, fmt.Errorf("max_partitions %d: write a count between 1 and %d (default 64)", b.MaxPartitions, maxBacklogPartitionsLimit))
	}
	return grouperr.Join(errs...)
}

// CFJS1Config configures the cfjs1 value encoding.
type CFJS1Config struct {
	// Wrappers maps a format to its wrapper field name.
	Wrappers map[string]string `mapstructure:"wrappers"`
	// DefaultFormat is the format of a record without cfjs1.format.
	DefaultFormat string `mapstructure:"default_format"`
}

// Encoding of the message value.
type Encoding string

// The encodings.
const (
	EncodingCFJS1     Encoding = "cfjs1"
	EncodingOTLPJSON  Encoding = "otlp_json"
	EncodingOTLPProto Encoding = "otlp_proto"
)

// PartitionMode chooses how records are spread over partitions.
type PartitionMode string

// The partition modes.
const (
	PartitionByKey   PartitionMode = "key"
	PartitionBalance PartitionMode = "balanced"
)

// Kafka's own limits on topic names.
const maxTopicLen = 249

// Upper bounds that keep a typo from reserving gigabytes.
const (
	maxBatchBytesLimit   = 64 << 20
	maxBufferedLimit     = 10_000_000
	defaultMaxMessageLen = 1_000_000
	maxKnownLimit        = 1_000_000

	maxBacklogRecordsLimit    = 10_000_000
	maxBacklogPartitionsLimit = 10_000
)

// Validate checks the exporter's own options, the cluster options
// (kafkaconn's ValidateAll: brokers, client_id, tls, sasl) and what spans
// groups (timeout against producer.delivery_timeout); messages say what to
// write instead. The nested groups (producer, topics, partition,
// partition_backlog, cfjs1) validate themselves: the collector calls their
// Validate too and puts the group's path in front.
func (c *Config) Validate() error {
	errs := []error{c.ValidateAll()}
	switch c.Encoding {
	case EncodingCFJS1, EncodingOTLPJSON, EncodingOTLPProto:
	default:
		errs = append(errs, fmt.Errorf("encoding %q: write cfjs1, otlp_json or otlp_proto", c.Encoding))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout: must be positive, e.g. 30s"))
	} else if c.Timeout < c.Producer.DeliveryTimeout {
		errs = append(errs, fmt.Errorf("timeout (%s) is shorter than producer.delivery_timeout (%s): raise timeout or lower delivery_timeout", c.Timeout, c.Producer.DeliveryTimeout))
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

// Validate checks the producer options; the collector puts the group's path
// ("producer: ") in front.
func (p *ProducerConfig) Validate() error {
	var errs []error
	switch p.Acks {
	case "all":
	case "leader", "none":
		if p.Idempotent {
			errs = append(errs, fmt.Errorf("acks %q with idempotent: true: idempotence needs acks: all; set idempotent: false", p.Acks))
		}
	default:
		errs = append(errs, fmt.Errorf("acks %q: write all, leader or none", p.Acks))
	}
	switch p.Compression {
	case "zstd", "lz4", "snappy", "gzip", "none":
	default:
		errs = append(errs, fmt.Errorf("compression %q: write zstd, lz4, snappy, gzip or none", p.Compression))
	}
	if p.Linger < 0 || p.Linger > time.Minute {
		errs = append(errs, fmt.Errorf("linger %s: write a duration between 0 and 1m, e.g. 5ms", p.Linger))
	}
	if p.MaxBatchBytes < 1024 || p.MaxBatchBytes > maxBatchBytesLimit {
		errs = append(errs, fmt.Errorf("max_batch_bytes %d: write a size between 1024 and %d (default 1000000; at most the broker's message.max.bytes)", p.MaxBatchBytes, maxBatchBytesLimit))
	}
	if p.MaxMessageBytes < 1 || p.MaxMessageBytes > p.MaxBatchBytes {
		errs = append(errs, fmt.Errorf("max_message_bytes %d: write a size between 1 and max_batch_bytes (%d)", p.MaxMessageBytes, p.MaxBatchBytes))
	}
	if p.MaxBufferedRecords < 1 || p.MaxBufferedRecords > maxBufferedLimit {
		errs = append(errs, fmt.Errorf("max_buffered_records %d: write a count between 1 and %d (default 100000)", p.MaxBufferedRecords, maxBufferedLimit))
	}
	if p.DeliveryTimeout < time.Second {
		errs = append(errs, fmt.Errorf("delivery_timeout %s: write at least 1s, e.g. 10s (an unreachable broker must hand records back to the queue)", p.DeliveryTimeout))
	}
	return grouperr.Join(errs...)
}

// Validate checks the topic templates and bounds; the collector puts the
// group's path ("topics: ") in front.
func (t *TopicsConfig) Validate() error {
	var errs []error
	if t.Data == "" {
		errs = append(errs, errors.New("data: must not be empty, e.g. logs-{cfjs1.format}"))
	} else if _, err := parseTemplate(t.Data, attrtemplate.EscapeTopic); err != nil {
		errs = append(errs, fmt.Errorf("data: %w", err))
	} else if err := checkTopicLiterals(t.Data); err != nil {
		errs = append(errs, fmt.Errorf("data: %w", err))
	}
	if t.DeadLetter == "" {
		errs = append(errs, errors.New("dead_letter: must not be empty, e.g. logs-dead-letter"))
	} else if _, err := parseTemplate(t.DeadLetter, attrtemplate.EscapeTopic); err != nil {
		errs = append(errs, fmt.Errorf("dead_letter: %w", err))
	} else if err := checkTopicLiterals(t.DeadLetter); err != nil {
		errs = append(errs, fmt.Errorf("dead_letter: %w", err))
	}
	if t.Fallback != "" {
		if err := checkTopicName(t.Fallback); err != nil {
			errs = append(errs, fmt.Errorf("fallback: %w", err))
		}
	}
	for _, a := range t.Allowed {
		if err := checkAllowedEntry(a); err != nil {
			errs = append(errs, fmt.Errorf("allowed: %w", err))
		}
	}
	if t.RefreshInterval < time.Second || t.RefreshInterval > time.Hour {
		errs = append(errs, fmt.Errorf("refresh_interval %s: write a duration between 1s and 1h, e.g. 1m (how soon a new topic is used)", t.RefreshInterval))
	}
	if t.MaxKnown < 1 || t.MaxKnown > maxKnownLimit {
		errs = append(errs, fmt.Errorf("max_known %d: write a count between 1 and %d (default 10000; at least the topics of the cluster this exporter writes to)", t.MaxKnown, maxKnownLimit))
	}
	return grouperr.Join(errs...)
}

// Validate checks the key template and the mode; the collector puts the
// group's path ("partition: ") in front.
func (p *PartitionConfig) Validate() error {
	var errs []error
	if _, err := parseTemplate(p.Key, attrtemplate.EscapeNone); err != nil {
		errs = append(errs, fmt.Errorf("key: %w", err))
	}
	switch p.Mode {
	case PartitionByKey, PartitionBalance:
	default:
		errs = append(errs, fmt.Errorf("mode %q: write key (ordered per key) or balanced (spread, no order)", p.Mode))
	}
	return grouperr.Join(errs...)
}

// Validate checks the cfjs1 encoding's options; the collector puts the
// group's path ("cfjs1: ") in front.
func (c *CFJS1Config) Validate() error {
	var errs []error
	if c.DefaultFormat == "" {
		errs = append(errs, errors.New("default_format: must not be empty (default unknown)"))
	}
	for f, w := range c.Wrappers {
		if f == "" || w == "" {
			errs = append(errs, fmt.Errorf("wrappers: %q: %q: write format: wrapper_field, both not empty", f, w))
		}
	}
	return grouperr.Join(errs...)
}

// checkAllowedEntry checks one topics.allowed entry: a topic name, or a
// prefix of one followed by a single '*'.
func checkAllowedEntry(a string) error {
	prefix, wildcard := strings.CutSuffix(a, "*")
	if wildcard && prefix == "" {
		return nil // "*": every topic (existence is still checked)
	}
	if err := checkTopicName(prefix); err != nil {
		return fmt.Errorf("%q: write a topic name or a prefix ending in '*', e.g. logs-*: %w", a, err)
	}
	return nil
}

// parseTemplate parses a topic or key template; the empty key template is
// allowed and means "no key".
func parseTemplate(src string, esc attrtemplate.Escape) (*attrtemplate.Template, error) {
	if src == "" {
		return nil, nil
	}
	return attrtemplate.Parse(src, attrtemplate.Options{Escape: esc})
}

// checkTopicLiterals refuses literal characters Kafka does not allow in a
// topic name: escaping protects only the attribute values.
func checkTopicLiterals(src string) error {
	var lit strings.Builder
	depth := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '{' && i+1 < len(src) && src[i+1] == '{' && depth == 0:
			i++
			lit.WriteByte('{')
		case c == '}' && i+1 < len(src) && src[i+1] == '}' && depth == 0:
			i++
			lit.WriteByte('}')
		case c == '{':
			depth++
		case c == '}':
			depth--
		case depth == 0:
			lit.WriteByte(c)
		}
	}
	for _, c := range []byte(lit.String()) {
		if !isTopicByte(c) {
			return fmt.Errorf("%q has %q outside a placeholder; topic names allow only ASCII letters, digits, '.', '_' and '-'", src, c)
		}
	}
	return nil
}

// checkTopicName checks a fixed topic name the way the broker would.
func checkTopicName(name string) error {
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("%q is not a topic name", name)
	}
	if len(name) > maxTopicLen {
		return fmt.Errorf("%q is longer than %d characters", name, maxTopicLen)
	}
	for i := 0; i < len(name); i++ {
		if !isTopicByte(name[i]) {
			return fmt.Errorf("%q has %q; topic names allow only ASCII letters, digits, '.', '_' and '-'", name, name[i])
		}
	}
	return nil
}

func isTopicByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// validTopic is checkTopicName for the hot path (no error values).
func validTopic(b []byte) bool {
	if len(b) == 0 || len(b) > maxTopicLen {
		return false
	}
	if len(b) <= 2 && (string(b) == "." || string(b) == "..") {
		return false
	}
	for _, c := range b {
		if !isTopicByte(c) {
			return false
		}
	}
	return true
}
