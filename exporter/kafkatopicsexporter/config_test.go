package kafkatopicsexporter

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

	"github.com/otelcol-logx/otelcol-logx/exporter/kafkatopicsexporter/internal/metadata"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	id := component.NewID(metadata.Type)
	if name != "" {
		id = component.NewIDWithName(metadata.Type, name)
	}
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg, confmap.Validate(cfg)
}

func TestConfigDefaultIsValid(t *testing.T) {
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	assert.Equal(t, createDefaultConfig(), cfg)
	assert.Equal(t, "all", cfg.Producer.Acks)
	assert.True(t, cfg.Producer.Idempotent)
	assert.Equal(t, "{host.name}/{logx.service}", cfg.Partition.Key)
	assert.True(t, cfg.QueueConfig.HasValue())
}

func TestConfigFull(t *testing.T) {
	cfg, err := loadConfig(t, "full")
	require.NoError(t, err)
	assert.Equal(t, []string{"kafka-1:9092", "kafka-2:9092"}, cfg.Brokers)
	assert.Equal(t, "/etc/kafka/ca.pem", cfg.TLS.Get().CAFile)
	assert.Equal(t, "SCRAM-SHA-512", cfg.SASL.Get().Mechanism)
	assert.Equal(t, "lz4", cfg.Producer.Compression)
	assert.Equal(t, 10*time.Millisecond, cfg.Producer.Linger)
	assert.Equal(t, 2000000, cfg.Producer.MaxBatchBytes)
	assert.Equal(t, 20*time.Second, cfg.Producer.DeliveryTimeout)
	assert.Equal(t, "dlq-{cfjs1.dead_letter_for}", cfg.Topics.DeadLetter)
	assert.Equal(t, []string{"logs-other", "logs-*", "dlq-*"}, cfg.Topics.Allowed)
	assert.Equal(t, 30*time.Second, cfg.Topics.RefreshInterval)
	assert.Equal(t, 500, cfg.Topics.MaxKnown)
	assert.Equal(t, PartitionBalance, cfg.Partition.Mode)
	assert.Equal(t, PartitionBacklogConfig{Enabled: true, FailingAfter: 500 * time.Millisecond, Policy: BacklogRedirect,
		MaxRecords: 1000, MaxBytes: 1 << 20, MaxTotalBytes: 4 << 20, MaxPartitions: 8}, cfg.PartitionBacklog)
	assert.Equal(t, EncodingOTLPProto, cfg.Encoding)
	assert.Equal(t, "nginx_log", cfg.CFJS1.Wrappers["nginx"])
	require.NotNil(t, cfg.QueueConfig.Get().StorageID)
	assert.Equal(t, "file_storage", cfg.QueueConfig.Get().StorageID.String())
	assert.Equal(t, time.Duration(0), cfg.RetryConfig.MaxElapsedTime)
}

func TestConfigInvalid(t *testing.T) {
	for name, want := range map[string]string{
		"bad_acks":        "idempotence needs acks: all",
		"bad_topic":       "outside a placeholder",
		"bad_template":    "is not closed",
		"bad_sasl":        "write PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
		"bad_sizes":       "max_message_bytes 20000",
		"bad_compression": "write zstd, lz4, snappy, gzip or none",
		"no_brokers":      "list at least one broker",
		"bad_allowed":     `"logs/*": write a topic name or a prefix ending in '*'`,
		"bad_refresh":     "topics: refresh_interval 0s: write a duration between 1s and 1h",
		"bad_max_known":   "topics: max_known 0: write a count between 1 and",
		"bad_backlog":     "partition_backlog: failing_after 0s: write a duration between 10ms and 1m",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(t, name)
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
}

// Every wrong partition_backlog option is named, with what to write; off,
// its options are not checked.
func TestConfigPartitionBacklog(t *testing.T) {
	_, err := loadConfig(t, "bad_backlog")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "partition_backlog: failing_after 0s: write a duration between 10ms and 1m")
	assert.Contains(t, err.Error(), `; policy "drop": write wait`)
	assert.Contains(t, err.Error(), "; max_total_bytes 1024: write at least max_bytes")

	cfg, err := loadConfig(t, "backlog_off")
	require.NoError(t, err)
	assert.False(t, cfg.PartitionBacklog.Enabled)
}

// The nested groups validate themselves: each error is reported once, under
// the group's path, every problem of a group on its line.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Brokers = []string{"127.0.0.1:9092"}
	cfg.Producer.Compression = "brotli"
	cfg.Producer.Linger = -1
	cfg.Partition.Mode = "random"
	cfg.CFJS1.DefaultFormat = ""
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, `producer: compression "brotli": write zstd, lz4, snappy, gzip or none; linger -1ns: write a duration between 0 and 1m`)
	require.ErrorContains(t, err, `partition: mode "random": write key`)
	require.ErrorContains(t, err, "cfjs1: default_format: must not be empty")
	for _, once := range []string{"brotli", "random", "default_format"} {
		assert.Equal(t, 1, strings.Count(err.Error(), once), "%s reported once: %v", once, err)
	}
}

// The cluster options' errors read like the other groups': under the
// option's own name, once, with no segment the user never wrote
// ("config::sasl: ...").
func TestConfigClusterErrorsUnderTheirOwnNames(t *testing.T) {
	_, err := loadConfig(t, "badcluster")
	require.Error(t, err)
	assert.Equal(t, []string{
		`brokers: "kafka-1": write host:port, e.g. kafka-1:9092`,
		`tls: invalid TLS min_version: unsupported TLS version: "0.9"`,
		`sasl: mechanism "MD5": write PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`,
	}, strings.Split(err.Error(), "\n"))
}

// Marshalled, the config keeps the cluster options (they live in an
// unexported embedded struct, which the encoder leaves out by itself).
func TestConfigMarshalKeepsClusterOptions(t *testing.T) {
	cfg, err := loadConfig(t, "full")
	require.NoError(t, err)
	conf := confmap.New()
	require.NoError(t, conf.Marshal(cfg))
	assert.Equal(t, []any{"kafka-1:9092", "kafka-2:9092"}, conf.Get("brokers"))
	assert.Equal(t, "log-a", conf.Get("client_id"))
	assert.Equal(t, "/etc/kafka/ca.pem", conf.Get("tls::ca_file"))
	assert.Equal(t, "SCRAM-SHA-512", conf.Get("sasl::mechanism"))
	assert.Equal(t, "lz4", conf.Get("producer::compression"))
	back := createDefaultConfig().(*Config)
	require.NoError(t, conf.Unmarshal(back))
	cfg.SASL.Get().Password = "[REDACTED]" // what marshalling writes for a secret
	// The cluster options come back as they were (sending_queue's batch
	// comes back set where it was a default: the collector's own doing).
	assert.Equal(t, cfg.clusterConfig, back.clusterConfig)
	assert.Equal(t, cfg.Producer, back.Producer)
}
