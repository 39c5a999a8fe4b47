package sdnotifyextension

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

	"github.com/otelcol-logx/otelcol-logx/extension/sdnotifyextension/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	for _, tc := range []struct {
		id   component.ID
		want *Config
		err  string
	}{
		{id: component.NewID(metadata.Type), want: createDefaultConfig().(*Config)},
		{id: component.NewIDWithName(metadata.Type, "custom"), want: &Config{Watchdog: WatchdogConfig{
			RecoverableErrorGrace: time.Minute,
			HeartbeatInterval:     500 * time.Millisecond,
			HeartbeatTimeout:      5 * time.Second,
		}}},
		{id: component.NewIDWithName(metadata.Type, "bad_grace"), err: "watchdog: recoverable_error_grace must be between 0s"},
		{id: component.NewIDWithName(metadata.Type, "bad_heartbeat"), err: "write e.g. heartbeat_timeout: 25s"},
	} {
		t.Run(tc.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tc.id.String())
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
	assert.Equal(t, 5*time.Minute, cfg.Watchdog.RecoverableErrorGrace)
	assert.Equal(t, 2*time.Second, cfg.Watchdog.HeartbeatInterval)
	assert.Equal(t, 10*time.Second, cfg.Watchdog.HeartbeatTimeout)
}

// The watchdog group validates itself: its error is reported once, under
// the group's path, every problem on its line.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Watchdog.RecoverableErrorGrace = -1
	cfg.Watchdog.HeartbeatInterval = time.Hour
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, "watchdog: recoverable_error_grace must be between 0s (a recoverable error stops the pings at once) and 24h: write e.g. 5m; heartbeat_interval must be between 10ms and 1m")
	for _, once := range []string{"recoverable_error_grace", "heartbeat_interval must"} {
		assert.Equal(t, 1, strings.Count(err.Error(), once), "%s reported once: %v", once, err)
	}
}
