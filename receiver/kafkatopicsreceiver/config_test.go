package kafkatopicsreceiver

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-logx/otelcol-logx/receiver/kafkatopicsreceiver/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg.(*Config)
}

func TestConfigDefaultNeedsBrokersTopicsAndGroup(t *testing.T) {
	cfg := loadConfig(t, "")
	assert.Equal(t, createDefaultConfig(), cfg)
	err := confmap.Validate(cfg)
	require.Error(t, err)
	for _, want := range []string{"brokers: list at least one broker", "topics: list at least one topic", "group: id: name the consumer group"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestConfigFull(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, []string{"kafka-1:9092", "kafka-2:9092", "kafka-3:9092"}, cfg.BrokerList())
	assert.True(t, cfg.TLS.HasValue())
	assert.Equal(t, "SCRAM-SHA-512", cfg.SASL.Get().Mechanism)
	assert.Equal(t, GroupConfig{ID: "otelcol-logx-tenants", SessionTimeout: 30 * time.Second, RebalanceTimeout: 45 * time.Second,
		HeartbeatInterval: 2 * time.Second, InitialOffset: OffsetLatest}, cfg.Group)
	assert.Equal(t, FetchConfig{MaxPollRecords: 2000, MaxBytes: 8 << 20, MaxPartitionBytes: 512 << 10}, cfg.Fetch)
	assert.Equal(t, RetryConfig{InitialBackoff: 50 * time.Millisecond, MaxBackoff: 2 * time.Second}, cfg.Retry)
	assert.Equal(t, EncodingOTLPProto, cfg.Encoding)
	assert.True(t, cfg.TopicsRegex)
}

func TestConfigBadSaysWhatToWrite(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "bad"))
	require.Error(t, err)
	for _, want := range []string{
		"write host:port", "client_id: must not be empty", "is not a regular expression",
		"group: id: name the consumer group", "; session_timeout and rebalance_timeout: at least 1s", "; initial_offset \"newest\": write earliest or latest",
		"fetch: max_poll_records: between 1 and 1000000", "; max_bytes and max_partition_bytes: positive, and max_partition_bytes not above max_bytes",
		"retry: initial_backoff: positive",
		"write cfjs1, otlp_json or otlp_proto",
	} {
		assert.Contains(t, err.Error(), want)
	}
}

// The nested groups validate themselves: each error is reported once, under
// the group's path.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Brokers = []string{"127.0.0.1:9092"}
	cfg.Topics = []string{"logs"}
	cfg.Group.ID = "g"
	cfg.Fetch.MaxPollRecords = 0
	cfg.CFJS1.Decode.MaxDepth = -1
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, "fetch: max_poll_records: between 1 and 1000000")
	require.ErrorContains(t, err, "cfjs1::decode: max_depth must be between")
	for _, once := range []string{"max_poll_records", "max_depth"} {
		assert.Equal(t, 1, strings.Count(err.Error(), once), "%s reported once: %v", once, err)
	}
}

// The cluster options' errors read like the other groups': under the
// option's own name, once, with no segment the user never wrote
// ("config::sasl: ...").
func TestConfigClusterErrorsUnderTheirOwnNames(t *testing.T) {
	cfg := loadConfig(t, "badcluster")
	err := confmap.Validate(cfg)
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	for _, want := range []string{
		`brokers: "kafka-1": write host:port, e.g. kafka-1:9092`,
		`tls: invalid TLS min_version: unsupported TLS version: "0.9"`,
		`sasl: mechanism "MD5": write PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`,
	} {
		assert.Contains(t, lines, want)
	}
	assert.Len(t, lines, 3, "%v", err)
}

// Marshalled, the config keeps the cluster options (they live in an
// unexported embedded struct, which the encoder leaves out by itself).
func TestConfigMarshalKeepsClusterOptions(t *testing.T) {
	cfg := loadConfig(t, "full")
	conf := confmap.New()
	require.NoError(t, conf.Marshal(cfg))
	assert.Equal(t, []any{"kafka-1:9092,kafka-2:9092", "kafka-3:9092"}, conf.Get("brokers"))
	assert.Equal(t, "tier3-a", conf.Get("client_id"))
	assert.Equal(t, "/etc/logx/tls/ca.crt", conf.Get("tls::ca_file"))
	assert.Equal(t, "SCRAM-SHA-512", conf.Get("sasl::mechanism"))
	assert.Equal(t, "otelcol-logx-tenants", conf.Get("group::id"))
	back := createDefaultConfig().(*Config)
	require.NoError(t, conf.Unmarshal(back))
	cfg.SASL.Get().Password = "[REDACTED]" // what marshalling writes for a secret
	assert.Equal(t, cfg, back)
}
