package fiforeceiver

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-logx/otelcol-logx/internal/framing"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
	"github.com/otelcol-logx/otelcol-logx/receiver/fiforeceiver/internal/metadata"
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
	want.Path = "/run/logx/app.fifo"
	assert.Equal(t, want, cfg)
	require.NoError(t, confmap.Validate(cfg))
}

func TestConfigFull(t *testing.T) {
	cfg, err := loadConfig(t, "full")
	require.NoError(t, err)
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, &Config{
		Path:           "/run/logx/billing.fifo",
		Mode:           "0660",
		Owner:          "0",
		Group:          "0",
		PipeSize:       1 << 20,
		Framing:        framing.Auto,
		MaxMessageSize: 8192,
		Format:         syslog.FormatRFC3164,
		Service:        "billing",
		Buffer:         ingest.BufferConfig{MaxBytes: 8 << 20, Policy: ingest.DropOldest},
	}, cfg)
}

func TestConfigInvalid(t *testing.T) {
	for name, msg := range map[string]string{
		"bad_pipe_size": "pipe_size must be between",
		"no_path":       "path is required",
	} {
		cfg, err := loadConfig(t, name)
		require.NoError(t, err, name)
		require.ErrorContains(t, confmap.Validate(cfg), msg, name)
	}
	_, err := loadConfig(t, "bad_format")
	assert.ErrorContains(t, err, `write one of "auto"`)
}

// The buffer group validates itself: its error is reported once, under the
// group's path.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = "/run/logx/app.fifo"
	cfg.Buffer.MaxBytes = 10
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, "buffer: max_bytes must be at least 2097152")
	assert.Equal(t, 1, strings.Count(err.Error(), "max_bytes"), "reported once: %v", err)
}
