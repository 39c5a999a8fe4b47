package externaljsonprocessor

import (
	"math"
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

	"github.com/otelcol-logx/otelcol-logx/processor/externaljsonprocessor/internal/metadata"
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

func TestConfigStruct(t *testing.T) {
	require.NoError(t, componenttest.CheckConfigStruct(createDefaultConfig()))
}

func TestLoadConfigMinimalGetsDefaults(t *testing.T) {
	cfg := loadConfig(t, "")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, defaultStartupWait, cfg.StartupWait)
	require.Len(t, cfg.Sources, 1)
	s := cfg.Sources[0].resolved()
	assert.Equal(t, "http://127.0.0.1:8080/status", s.HTTP.Endpoint)
	assert.Equal(t, "secret", headerValue(t, s, "X-Token"))
	assert.Equal(t, defaultTimeout, s.HTTP.Timeout)
	assert.Equal(t, defaultInterval, s.Interval)
	assert.EqualValues(t, defaultMaxSize, s.MaxSize)
	assert.Equal(t, staleMark, s.StalePolicy)
	assert.Equal(t, defaultStaleAttribute, s.StaleAttribute)
	assert.Equal(t, targetRecord, s.Mapping.Target)
	assert.Equal(t, "upsert", s.Mapping.OnConflict)
	assert.Equal(t, defaultMaxFields, s.Mapping.MaxFields)
	assert.Equal(t, "dc.", s.Mapping.Prefix)
}

func TestLoadConfigFull(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, 2*time.Second, cfg.StartupWait)
	assert.Equal(t, "/var/lib/logx/externaljson", cfg.Persistence.Directory)
	require.Len(t, cfg.Sources, 2)
	dc := cfg.Sources[0]
	assert.Equal(t, 3*time.Second, dc.HTTP.Timeout)
	assert.True(t, dc.HTTP.TLS.InsecureSkipVerify)
	assert.EqualValues(t, 4096, dc.MaxSize)
	assert.Equal(t, 15*time.Second, dc.Interval)
	assert.Equal(t, 2*time.Second, dc.Jitter)
	assert.Equal(t, 2*time.Minute, dc.MaxAge)
	assert.Equal(t, staleRemove, dc.StalePolicy)
	assert.Equal(t, targetResource, dc.Mapping.Target)
	assert.Equal(t, "insert", dc.Mapping.OnConflict)
	assert.Equal(t, 10, dc.Mapping.MaxFields)
	require.Len(t, dc.Mapping.Fields, 2)
	assert.Equal(t, "status.traffic", dc.Mapping.Fields[0].Path)
	assert.Equal(t, "traffic", dc.Mapping.Fields[0].Key)
	assert.Equal(t, "upsert", dc.Mapping.Fields[1].OnConflict)

	nginx := cfg.Sources[1]
	require.NotNil(t, nginx.Command)
	assert.Equal(t, []string{"systemctl", "show", "--property=ActiveState", "--value", "nginx"}, nginx.Command.Argv)
	assert.Equal(t, 2*time.Second, nginx.Command.Timeout)
	assert.Equal(t, map[string]string{"LC_ALL": "C"}, nginx.Command.Environment)
	assert.Equal(t, "nginx_state", nginx.Command.TextKey)
	assert.Equal(t, "unit.stale", nginx.StaleAttribute)
}

func TestValidateSaysWhatToWrite(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "nosources"))
	require.ErrorContains(t, err, "at least one source is required")

	err = confmap.Validate(loadConfig(t, "both"))
	require.ErrorContains(t, err, "both http and command are set")

	err = confmap.Validate(loadConfig(t, "bad"))
	require.Error(t, err)
	for _, want := range []string{
		"startup_wait: must not be negative",
		`name: "bad name" is not valid`,
		"argv: give the program and its arguments",
		"max_size: -1 is out of range",
		`stale_policy: "forget" is not known; write keep, remove or mark`,
		"max_age (10s) is shorter than interval (1m0s)",
		`target: "scope" is not known; write record or resource`,
		`on_conflict: "replace" is not known`,
		`path: "a..b" is not a path`,
		`fields[2]: attribute "k" is produced twice`,
		`http.endpoint: "ftp://x" is not an http:// or https:// URL`,
		`sources[2]: name "dup" is used twice`,
	} {
		require.ErrorContains(t, err, want)
	}
	// Each nested group validates itself; the collector puts the group's
	// path in front of its messages.
	for _, path := range []string{
		"sources::0: ", "sources::0::command: ", "sources::0::mapping: ",
		"sources::0::mapping::fields::0: ", "sources::1: ",
	} {
		assert.ErrorContains(t, err, path)
	}
}

func headerValue(t *testing.T, s SourceConfig, name string) string {
	t.Helper()
	v, ok := s.HTTP.Headers.Get(name)
	require.True(t, ok, "header %s", name)
	return string(v)
}

// A configuration that would always write a name other components key on
// is refused, with what to write instead.
func TestValidateRefusesReservedNames(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "reserved"))
	require.Error(t, err)
	for _, want := range []string{
		`sources::0::mapping: prefix: "logx." puts every attribute in the reserved namespace logx.*; write a prefix of your own (e.g. "dc.")`,
		`sources::1::mapping: fields[0]: attribute "logx.tenant" is reserved`,
		`write another key (e.g. "ext.tenant"), or, if this source is meant to set it, allow_reserved: ["logx.tenant"]`,
		`sources::1: stale_attribute: "cfjs1.stale" is reserved`,
		`sources::2: command.text_key: attribute "logx.service" is reserved`,
	} {
		require.ErrorContains(t, err, want)
	}
	assert.NotContains(t, err.Error(), `"site"`, "a name of its own is fine")
}

func TestLoadConfigGuard(t *testing.T) {
	cfg := loadConfig(t, "guard")
	require.NoError(t, confmap.Validate(cfg))
	g := cfg.Sources[0].resolved().Guard
	assert.InDelta(t, 0.25, *g.MaxFieldLoss, 0)
	assert.Equal(t, []string{"dc.status", "dc.name"}, g.RequiredPaths)

	def := loadConfig(t, "").Sources[0].resolved().Guard
	require.NotNil(t, def.MaxFieldLoss, "the shrink guard is on by default")
	assert.InDelta(t, defaultMaxFieldLoss, *def.MaxFieldLoss, 0)

	err := confmap.Validate(loadConfig(t, "guard_bad"))
	require.Error(t, err)
	for _, want := range []string{
		"sources::0::guard: max_field_loss: 1.5 is out of range; write a fraction from 0 (refuse any lost field) to 1 (shrink check off), or leave it out for 0.5",
		`required_paths[1]: "dc..x" is not a path`,
		`required_paths[2]: "dc.status" is listed twice; remove one`,
		"sources::1::guard: max_field_loss: -0.1 is out of range",
		"sources::1: guard.required_paths: the output of a command with text_key is text, not an object; remove required_paths",
	} {
		assert.ErrorContains(t, err, want)
	}
}

// Each nested group's Validate stands on its own (the collector calls them
// one by one while walking the configuration).
func TestNestedGroupsValidateThemselves(t *testing.T) {
	require.ErrorContains(t, (&CommandConfig{}).Validate(), "argv: give the program")
	require.ErrorContains(t, (&MappingConfig{Target: "scope"}).Validate(), `target: "scope" is not known`)
	require.ErrorContains(t, (&FieldConfig{Path: ".x"}).Validate(), `path: ".x" is not a path`)
	require.ErrorContains(t, (&GuardConfig{MaxFieldLoss: ptr(math.NaN())}).Validate(), "max_field_loss: NaN is out of range")
	require.ErrorContains(t, (&SourceConfig{Name: "x"}).Validate(), "neither http nor command is set")
	require.NoError(t, (&GuardConfig{}).Validate())
	require.NoError(t, (&MappingConfig{}).Validate())
}

// A source's nested groups validate themselves: each error is reported
// once, under the group's path, every problem of a group on its line.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "guard_bad"))
	require.ErrorContains(t, err, `sources::0::guard: max_field_loss: 1.5 is out of range; write a fraction from 0 (refuse any lost field) to 1 (shrink check off), or leave it out for 0.5; required_paths[1]: "dc..x" is not a path`)
	assert.Equal(t, 1, strings.Count(err.Error(), "max_field_loss: 1.5"), "reported once: %v", err)
}
