package logfileexporter

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

	"github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	// The path is the one thing without a default.
	require.ErrorContains(t, confmap.Validate(cfg), "path: required")
	cfg.Path = "/tmp/x.log"
	require.NoError(t, confmap.Validate(cfg))
}

func TestLoadConfig(t *testing.T) {
	cfg := loadConfig(t, "")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, "text", cfg.Format)
	assert.Equal(t, int64(10<<30), cfg.DiskGuard.MaxTotalBytes)
	assert.Equal(t, 1000, cfg.MaxPaths)
	assert.Equal(t, "/tmp/logx/overflow.log", cfg.overflowPath())

	full := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(full))
	assert.Equal(t, "syslog", full.Format)
	assert.Equal(t, 16, full.Syslog.Facility)
	assert.Equal(t, []string{"logx.service", "cfjs1.format"}, full.Syslog.SDAttributes)
	assert.Equal(t, "0644", full.Permissions.FileMode)
	assert.Equal(t, 24*time.Hour, full.Rotation.Interval)
	assert.Equal(t, "zstd", full.Rotation.Compression)
	assert.Equal(t, 200*time.Millisecond, full.Flush.Interval)
	assert.False(t, full.Reopen.OnSIGHUP)
	assert.Equal(t, "retry", full.DiskGuard.OnFull)
	assert.Equal(t, 10*time.Second, full.Timeout)
	assert.Equal(t, 200, full.MaxPaths)
	assert.Equal(t, "/var/log/logx/rest.log", full.overflowPath())
}

func TestValidateMessages(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "bad"))
	require.Error(t, err)
	for _, want := range []string{
		"path: template",
		`format "xml": write one of text, syslog, json, cfjs1`,
		`multiline "fold"`,
		`permissions: file_mode: "rw-r--r--" is not an octal mode`,
		`rotation: rotated files would be kept forever; set max_backups and/or max_age; compression "lz4"`,
		`disk_guard: on_full "block"`,
		"max_paths must not be negative",
		`overflow_path "/tmp/{logx.service}.log" is a plain path, not a template`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}

// The nested groups validate themselves: each error is reported once, under
// the group's path, every problem of a group on its line.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = "/tmp/x.log"
	cfg.Syslog.Timezone = "CET"
	cfg.Flush.BufferBytes = 0
	cfg.Flush.Interval = -1
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, `syslog: timezone "CET": write UTC or Local`)
	require.ErrorContains(t, err, "flush: interval, sync_interval and sync_every_bytes must not be negative (0 turns each off); buffer_bytes must be in 1..67108864")
	for _, once := range []string{"timezone", "buffer_bytes"} {
		assert.Equal(t, 1, strings.Count(err.Error(), once), "%s reported once: %v", once, err)
	}
}
