package gomaxprocsextension

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-logx/otelcol-logx/extension/gomaxprocsextension/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		want *Config
		err  string
	}{
		{name: "", want: createDefaultConfig().(*Config)},
		{name: "custom", want: &Config{
			Min: 2, Max: 8, Interval: 100 * time.Millisecond,
			ScaleUp:   ScaleUpConfig{Utilization: 0.9},
			ScaleDown: ScaleDownConfig{Utilization: 0.5, After: 30 * time.Second},
		}},
		{name: "bad_min", err: "min must be at least 1: write e.g. min: 1"},
		{name: "bad_max", err: "max must be 0 (the GOMAXPROCS the process started with) or at least min (4)"},
		{name: "bad_interval", err: "interval must be between 10ms and 10s"},
		{name: "flapping", err: "scale_down.utilization must be below scale_up.utilization (0.5)"},
		{name: "bad_up", err: "scale_up: utilization must be above 0 and at most 1"},
		{name: "bad_after", err: "scale_down: after must be between 0s (exclusive) and 1h"},
	} {
		id := component.NewIDWithName(metadata.Type, tc.name)
		t.Run(id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, cfg)
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, 1, cfg.Min)
	assert.Equal(t, 0, cfg.Max)
	assert.Equal(t, time.Second, cfg.Interval)
	assert.InDelta(t, 0.75, cfg.ScaleUp.Utilization, 0)
	assert.InDelta(t, 0.6, cfg.ScaleDown.Utilization, 0)
	assert.Equal(t, 5*time.Second, cfg.ScaleDown.After)
}
