package cfjs1exporter

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

	"github.com/otelcol-logx/otelcol-logx/exporter/cfjs1exporter/internal/metadata"
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

func TestConfigDefaultNeedsEndpoints(t *testing.T) {
	cfg := loadConfig(t, "")
	assert.Equal(t, createDefaultConfig(), cfg)
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, "endpoints: list at least one")
	cfg.Endpoints = []EndpointConfig{{Name: "log-a", Endpoint: "127.0.0.1:5170"}}
	require.NoError(t, confmap.Validate(cfg))
	// The defaults bound every wait and the queue, and never block upstream.
	q := cfg.QueueConfig.Get()
	assert.False(t, q.BlockOnOverflow)
	assert.EqualValues(t, 200_000, q.QueueSize)
	assert.True(t, cfg.Ack.Enabled)
	assert.LessOrEqual(t, cfg.Ack.Timeout+cfg.Ack.HeartbeatInterval, 2*time.Second, "a half-alive peer is found within 2s")
	assert.Equal(t, 1<<20, cfg.MaxLineSize, "the cfjs1 receiver's default max_line_size")
}

func TestConfigMaxLineSizeLeavesRoomForDeadLetterMark(t *testing.T) {
	long := strings.Repeat("n", 300)
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoints = []EndpointConfig{{Name: long, Endpoint: "127.0.0.1:1"}, {Name: "log-b", Endpoint: "127.0.0.1:2"}}
	cfg.MaxLineSize = 512
	require.ErrorContains(t, cfg.Validate(), "max_line_size 512 leaves less than 256 bytes once a dead-letter mark (321 bytes")
	// In failover mode no copy is marked: nothing to leave room for.
	cfg.Mode = ModeFailover
	require.NoError(t, cfg.Validate())
}

func TestConfigFull(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, ModeFailover, cfg.Mode)
	require.Len(t, cfg.Endpoints, 2)
	assert.True(t, cfg.Endpoints[0].TLS.HasValue())
	assert.Equal(t, "/etc/logx/tls/client.crt", cfg.Endpoints[0].TLS.Get().CertFile)
	assert.True(t, cfg.ackFor(cfg.Endpoints[0]))
	assert.False(t, cfg.ackFor(cfg.Endpoints[1]))
	assert.Equal(t, "logx.service", cfg.FormatAttribute)
	assert.Equal(t, "unknown", cfg.DefaultFormat)
	assert.Equal(t, map[string]string{"nginx": "nginx_log"}, cfg.Wrappers)
	assert.Equal(t, 65536, cfg.MaxLineSize)
	assert.Equal(t, ConnectionConfig{ConnectTimeout: 2 * time.Second, WriteTimeout: 3 * time.Second, KeepAlive: 10 * time.Second, KeepAliveCount: 5, UserTimeout: 4 * time.Second}, cfg.Connection)
	assert.Equal(t, AckConfig{Enabled: true, Timeout: 1500 * time.Millisecond, Window: 5000, HeartbeatInterval: 250 * time.Millisecond}, cfg.Ack)
	assert.Equal(t, FailbackConfig{InitialBackoff: time.Second, MaxBackoff: time.Minute, HealthyFor: 30 * time.Second}, cfg.Failback)
	assert.Equal(t, 20*time.Second, cfg.Timeout)
	assert.Equal(t, "file_storage/cfjs1", cfg.QueueConfig.Get().StorageID.String())
}

func TestConfigBad(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "bad"))
	require.Error(t, err)
	for _, want := range []string{"write host:port", "used twice", "write a name", "mode \"some\"", "format_attribute", "max_line_size 100: write a size between 256 and 67108864", "connection: connect_timeout must be positive", "ack: window must be at least 1 line", "failback: max_backoff must be at least initial_backoff"} {
		assert.ErrorContains(t, err, want)
	}
}

// The nested groups validate themselves: each error is reported once, under
// the group's path, every problem of a group on its line.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoints = []EndpointConfig{{Name: "log-a", Endpoint: "log-a.example"}}
	cfg.Connection.WriteTimeout = 0
	cfg.Connection.KeepAliveCount = 0
	cfg.QueueConfig.Get().NumConsumers = 0
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, `endpoints::0: endpoint "log-a.example": write host:port`)
	require.ErrorContains(t, err, "connection: write_timeout must be positive (an unbounded wait is how a half-alive peer hangs the pipeline); keepalive_count must be at least 1")
	require.ErrorContains(t, err, "sending_queue: `num_consumers` must be positive")
	for _, once := range []string{"write host:port", "write_timeout", "keepalive_count", "num_consumers"} {
		assert.Equal(t, 1, strings.Count(err.Error(), once), "%s reported once: %v", once, err)
	}
}
