package fanoutconnector

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-logx/otelcol-logx/connector/fanoutconnector/internal/metadata"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestConfigDefaults(t *testing.T) {
	require.NoError(t, componenttest.CheckConfigStruct(NewFactory().CreateDefaultConfig()))
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	require.Equal(t, createDefaultConfig(), cfg)
	require.Equal(t, int64(64<<20), cfg.Backlog.MaxBytes)
	require.Equal(t, 10000, cfg.Backlog.MaxBatches)
	require.Equal(t, 5*time.Second, cfg.DrainTimeout)
}

func TestConfigCustom(t *testing.T) {
	cfg, err := loadConfig(t, "custom")
	require.NoError(t, err)
	require.Equal(t, &Config{
		Backlog:      BacklogConfig{MaxBytes: 16 << 20, MaxBatches: 500},
		Retry:        RetryConfig{InitialInterval: 10 * time.Millisecond, MaxInterval: 2 * time.Second},
		DrainTimeout: 30 * time.Second,
	}, cfg)
}

// Each refusal says what to write instead.
func TestConfigRefusals(t *testing.T) {
	for name, want := range map[string][]string{
		"tiny_backlog":    {"backlog: max_bytes is 1024: write at least 1048576", "; max_batches is 0: write a positive number"},
		"backwards_retry": {"retry: max_interval (1s) is shorter than initial_interval (2s): write at least 2s"},
		"no_drain":        {"drain_timeout is 0s: write a positive duration"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(t, name)
			require.Error(t, err)
			for _, w := range want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

// The nested groups validate themselves: each error is reported once, under
// the group's path, every problem of a group on its line.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Backlog = BacklogConfig{MaxBytes: 1, MaxBatches: 0}
	cfg.Retry.InitialInterval = 0
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, "backlog: max_bytes is 1: write at least 1048576 (1 MiB, room for a batch), e.g. 67108864 for 64 MiB; max_batches is 0")
	require.ErrorContains(t, err, "retry: initial_interval is 0s")
	for _, once := range []string{"max_bytes", "max_batches", "initial_interval"} {
		require.Equal(t, 1, strings.Count(err.Error(), once), "%s reported once: %v", once, err)
	}
}
