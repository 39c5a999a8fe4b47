package cfjs1receiver

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/receiver/cfjs1receiver/internal/metadata"
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

func TestConfigDefault(t *testing.T) {
	cfg := loadConfig(t, "")
	assert.Equal(t, createDefaultConfig(), cfg)
	require.NoError(t, confmap.Validate(cfg))
}

func TestConfigFull(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	tls := configtls.NewDefaultServerConfig()
	tls.CertFile = "/etc/logx/tls/server.crt"
	tls.KeyFile = "/etc/logx/tls/server.key"
	tls.ClientCAFile = "/etc/logx/tls/ca.crt"
	assert.Equal(t, &Config{
		Endpoint:              "0.0.0.0:6514",
		TLS:                   configoptional.Some(tls),
		MaxConnections:        20000,
		MaxConnectionsPerPeer: 64,
		MaxLineSize:           262144,
		MaxBufferedBytes:      128 << 20,
		IdleTimeout:           10 * time.Minute,
		HandshakeTimeout:      5 * time.Second,
		LineTimeout:           20 * time.Second,
		MaxBatchLines:         2000,
		Wrappers:              map[string]string{"nginx": "nginx_log"},
		Decode:                cfjs1.Limits{MaxMembers: 500, MaxValues: 5000, MaxDepth: 16},
	}, cfg)
}

func TestConfigBad(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "bad"))
	require.Error(t, err)
	for _, want := range []string{"endpoint", "max_connections must", "max_connections_per_peer", "max_line_size",
		"max_buffered_bytes", "idle_timeout", "handshake_timeout", "line_timeout", "max_batch_lines", "wrappers", "decode: max_depth"} {
		assert.ErrorContains(t, err, want)
	}
}

// The decode group validates itself: its error is reported once, under the
// group's path, every problem on its line.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Decode.MaxMembers, cfg.Decode.MaxDepth = 0, -1
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, "decode: max_members must be between 1 and")
	require.ErrorContains(t, err, "; max_depth must be between 1 and")
	assert.Equal(t, 1, strings.Count(err.Error(), "max_depth"), "reported once: %v", err)
}
