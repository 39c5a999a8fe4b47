package tenantfilterprocessor

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

	"github.com/otelcol-logx/otelcol-logx/processor/tenantfilterprocessor/internal/metadata"
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

// The defaults match the tenantbuffer exporter's; only the document has
// none, and leaving it out says what to write.
func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	require.ErrorContains(t, confmap.Validate(cfg), "jobs_file or jobs_url: required; write the job document")
	assert.Equal(t, &Config{
		Tenant:         TenantConfig{Attribute: "logx.tenant", Missing: "pass"},
		JobsFile:       "/etc/otelcol-logx/jobs.yaml",
		ReloadInterval: time.Minute, MaxRemovedFraction: 0.1,
	}, loadConfig(t, ""))
	require.NoError(t, confmap.Validate(loadConfig(t, "")))
	assert.False(t, cfg.guardDisabled())
}

func TestFullConfig(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, &Config{
		Tenant:             TenantConfig{Attribute: "customer.id", Missing: "drop"},
		JobsURL:            "https://jobs.example/logpush.yaml",
		ReloadInterval:     30 * time.Second,
		MaxRemovedFraction: 0.25,
		LastGoodFile:       "/var/lib/otelcol-logx/tenantfilter-jobs.yaml",
	}, cfg)
}

// Every wrong option is reported at once, each saying what to write.
func TestInvalidConfigSaysWhatToWrite(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "bad"))
	require.Error(t, err)
	for _, want := range []string{
		"tenant: attribute: empty; write the attribute that names the tenant, e.g. logx.tenant",
		`; missing: "keep"; write pass (records without a tenant go on) or drop`,
		"jobs_file and jobs_url are both set; write only one",
		"reload_interval: 0s; write a positive duration, e.g. 1m",
		"max_removed_fraction: 1.5; write a fraction in [0, 1], e.g. 0.1 (1 switches the guard off)",
	} {
		require.ErrorContains(t, err, want)
	}
	for cfg, want := range map[*Config]string{
		{JobsURL: "ftp://jobs.example/x"}:                      `jobs_url: "ftp://jobs.example/x"; write an http(s) url`,
		{JobsFile: "/etc/j.yaml", LastGoodFile: "/etc/j.yaml"}: `last_good_file: "/etc/j.yaml" is the job document itself; write a path of its own`,
	} {
		assert.ErrorContains(t, cfg.Validate(), want)
	}
}

// The tenant group validates itself: its error is reported once, under the
// group's path, every problem on its line.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.JobsFile = "/etc/otelcol-logx/jobs.yaml"
	cfg.Tenant = TenantConfig{Attribute: "", Missing: "keep"}
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, `tenant: attribute: empty; write the attribute that names the tenant, e.g. logx.tenant (the tenantbuffer exporter's tenant.attribute); missing: "keep"`)
	for _, once := range []string{"attribute: empty", `missing: "keep"`} {
		assert.Equal(t, 1, strings.Count(err.Error(), once), "%s reported once: %v", once, err)
	}
}
