package unixsocketreceiver

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-logx/otelcol-logx/internal/framing"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg.(*Config), nil
}

func TestConfigDefault(t *testing.T) {
	require.NoError(t, componenttest.CheckConfigStruct(createDefaultConfig()))
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	want := createDefaultConfig().(*Config)
	want.Path = "/run/logx/log.sock"
	assert.Equal(t, want, cfg)
	require.NoError(t, confmap.Validate(cfg))
	// The default config alone is incomplete: it has no path.
	assert.ErrorContains(t, createDefaultConfig().(*Config).Validate(), "path is required")
}

func TestConfigFull(t *testing.T) {
	cfg, err := loadConfig(t, "full")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))
	// The buffer's other options are internal/ingest's to test.
	buffer := cfg.Buffer
	buffer.MaxBytes, buffer.Policy = 8<<20, ingest.DropOldest
	assert.Equal(t, &Config{
		Path:                 "/run/logx/dgram.sock",
		Transport:            Datagram,
		Mode:                 "0660",
		Owner:                "0",
		Group:                "0",
		Framing:              framing.OctetCounting,
		MaxMessageSize:       8192,
		Format:               syslog.FormatRFC5424,
		MaxConnections:       16,
		MaxConnectionsPerUID: 4,
		IdleTimeout:          30 * time.Second,
		Peer:                 PeerConfig{Credentials: true, UntrustedService: UntrustedAppName},
		DefaultService:       "unknown-app",
		Buffer:               ingest.BufferConfig{MaxBytes: 8 << 20, Policy: ingest.DropOldest},
	}, cfg)
}

func TestConfigInvalid(t *testing.T) {
	for name, msg := range map[string]string{
		"bad_transport":            `write "stream" or "datagram"`,
		"bad_mode":                 "not an octal mode",
		"unit_without_credentials": "peer: systemd_unit needs the writer's pid: also write credentials: true",
		"small_buffer":             "buffer: max_bytes must be at least",
		"per_uid_over_max":         "max_connections_per_uid must be between 0 (no bound per user) and max_connections (16): write e.g. 2",
		"negative_idle_timeout":    "or 0 to never close an idle connection",
		"bad_untrusted_service":    `peer: untrusted_service "syslog_tag": write "uid" (the writer's user, from the kernel) or "app_name"`,
	} {
		cfg, err := loadConfig(t, name)
		require.NoError(t, err, name)
		require.ErrorContains(t, confmap.Validate(cfg), msg, name)
	}
	_, err := loadConfig(t, "bad_policy")
	assert.ErrorContains(t, err, `write "drop_newest" or "drop_oldest"`)
}

// The peer and buffer groups validate themselves: each error is reported
// once, under the group's path.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = "/run/logx/log.sock"
	cfg.Peer.SystemdUnit, cfg.Peer.Credentials = true, false
	cfg.Buffer.MaxBytes = 10
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, "peer: systemd_unit needs the writer's pid")
	require.ErrorContains(t, err, "buffer: max_bytes must be at least 2097152")
	assert.Equal(t, 1, strings.Count(err.Error(), "systemd_unit"), "reported once: %v", err)
	assert.Equal(t, 1, strings.Count(err.Error(), "max_bytes"), "reported once: %v", err)
}
