package ratelimitprocessor

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

	"github.com/otelcol-logx/otelcol-logx/processor/ratelimitprocessor/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.MustNewIDWithName(metadata.Type.String(), name).String())
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestDefaultConfigIsValidAndBounded(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, "logx.service", cfg.Key.Fields[0].Name)
	assert.Equal(t, 10000, cfg.MaxKeys)
	assert.Equal(t, *cfg, *loadConfig(t, ""), "an empty section is the default")
}

func TestFullConfig(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, &Config{
		Key: KeyConfig{
			Fields:       []FieldConfig{{From: "resource", Name: "host.name"}, {From: "attribute", Name: "logx.service"}},
			DefaultValue: "unknown",
		},
		Rate: 200, Burst: 400,
		Bytes: BytesConfig{Rate: 1048576, Burst: 2097152},
		Overrides: []OverrideConfig{{
			Values: []string{"edge01", "nginx.service"}, Rate: 5000, Burst: 10000,
			Bytes: &BytesConfig{Rate: 10485760, Burst: 20971520},
		}},
		Severity:    SeverityConfig{Threshold: "ERROR", Mode: "budget", Rate: 50, Burst: 100},
		MaxKeys:     50000,
		IdleTimeout: 10 * time.Minute,
		Overflow:    LimitConfig{Rate: 500, Burst: 1000},
		Summary:     SummaryConfig{Enabled: true, Interval: 30 * time.Second, Destination: "logger", MaxRecords: 10},
		Metrics:     MetricsConfig{TopKeys: 5, Interval: 15 * time.Second},
		DryRun:      true,
	}, cfg)
}

func TestInvalidConfigSaysWhatToWrite(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "invalid"))
	require.Error(t, err)
	for _, want := range []string{
		`key::fields::0: from is "header": write attribute, resource or body; name is empty`,
		"rate is 0: write records per second",
		"burst is 0: write a whole number of records",
		"bytes: rate is -1",
		"overrides::0: sets both key and values",
		`severity: threshold: unknown severity "LOUD"`,
		`; mode is "shout"`,
		"max_keys is 0: write a positive bound",
		"idle_timeout is 0s",
		"overflow: rate is 0",
		`summary: interval is 1ms: write at least 1s, e.g. 1m; destination is "kafka": write pipeline or logger; max_records is 0`,
		"metrics: top_keys is -1",
		"; interval is 1ms",
	} {
		assert.ErrorContains(t, err, want)
	}
}

func TestOverrideShapeMustMatchKey(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Overrides = []OverrideConfig{{Values: []string{"a", "b"}, Rate: 1, Burst: 1}, {Key: "x", Rate: 1, Burst: 1}, {Key: "x", Rate: 2, Burst: 2}}
	err := cfg.Validate()
	require.ErrorContains(t, err, "overrides[0].values has 2 entries but key.fields has 1")
	require.ErrorContains(t, err, "overrides[2] repeats the key of overrides[1]")

	cfg = createDefaultConfig().(*Config)
	cfg.Key.Fields = append(cfg.Key.Fields, FieldConfig{From: fromResource, Name: "host.name"})
	cfg.Overrides = []OverrideConfig{{Key: "x", Rate: 1, Burst: 1}}
	assert.ErrorContains(t, cfg.Validate(), "write values: [one value per field] instead of key")
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]int{"ERROR": 17, "error": 17, "Error3": 19, "warn": 13, "FATAL4": 24, "trace": 1, "9": 9, " INFO2 ": 10} {
		got, err := parseSeverity(in)
		require.NoError(t, err, in)
		assert.EqualValues(t, want, got, in)
	}
	for _, in := range []string{"", "0", "25", "ERROR5", "ERR", "crit"} {
		_, err := parseSeverity(in)
		assert.Error(t, err, in)
	}
}

func TestDefaultBucketOverrideWithSeveralFields(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Key.Fields = append(cfg.Key.Fields, FieldConfig{From: fromResource, Name: "host.name"})
	cfg.Overrides = []OverrideConfig{{Key: cfg.Key.DefaultValue, Rate: 1, Burst: 1}}
	require.NoError(t, cfg.Validate())
}

// The nested groups validate themselves: each error is reported once, under
// the group's path, every problem of a group on its line.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Overflow.Burst = 0
	cfg.Severity = SeverityConfig{Threshold: "ERROR", Mode: severityModeBudget, Rate: 0, Burst: 5}
	cfg.Overrides = []OverrideConfig{{Key: "a", Rate: 1, Burst: 1, Bytes: &BytesConfig{Rate: 10, Burst: 0}}}
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, "overflow: burst is 0")
	require.ErrorContains(t, err, "severity: rate is 0")
	require.ErrorContains(t, err, "overrides::0::bytes: burst is 0: write a number of bytes")
	assert.Equal(t, 2, strings.Count(err.Error(), "burst is 0"), "overflow and override bytes, each once: %v", err)
	assert.Equal(t, 1, strings.Count(err.Error(), "rate is 0"), "reported once: %v", err)
}
