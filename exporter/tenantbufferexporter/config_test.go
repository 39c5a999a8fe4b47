package tenantbufferexporter

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/metadata"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	if err != nil {
		t.Fatal(err)
	}
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestConfigDefaultsAreBounded(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Limits.MaxBuffers <= 0 || cfg.Limits.MaxBytesPerTenant <= 0 || cfg.Limits.MaxTotalBytes <= 0 ||
		cfg.Limits.MinFreeDiskBytes <= 0 || cfg.Retention.MaxAge <= 0 || !cfg.Durability.Fsync || cfg.QueueConfig.HasValue() {
		t.Fatalf("a default guard is off: %+v", cfg)
	}
	if cfg.Tenant.Attribute != "logx.tenant" {
		t.Fatalf("tenant attribute %q", cfg.Tenant.Attribute)
	}
}

func TestConfigCustom(t *testing.T) {
	cfg, err := loadConfig(t, "custom")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Limits.MaxBytesPerTenant != 64<<20 || cfg.Limits.MaxTotalBytes != 200<<30 || cfg.Segments.MaxRecordBytes != 256<<10 {
		t.Fatalf("sizes: %+v", cfg.Limits)
	}
	if !cfg.Retention.PerTenant["audit"].Unlimited() || time.Duration(cfg.Retention.PerTenant["noisy"]) != time.Hour {
		t.Fatalf("per-tenant retention: %+v", cfg.Retention)
	}
	if len(cfg.Consumers) != 2 || cfg.Durability.Fsync || cfg.Limits.OverflowTenant != "_overflow" || cfg.Tenant.Default != "unknown" {
		t.Fatalf("%+v", cfg)
	}
}

func TestConfigUnlimitedOnlyWhenWritten(t *testing.T) {
	cfg, err := loadConfig(t, "unbounded")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Limits.MaxBuffers != -1 || !cfg.Limits.MaxBytesPerTenant.Unlimited() || !cfg.Limits.MaxTotalBytes.Unlimited() || !cfg.Retention.MaxAge.Unlimited() {
		t.Fatalf("%+v", cfg.Limits)
	}
	o := cfg.storeOptions()
	if o.MinFreeDiskBytes != 0 || o.MaxTotalBytes != -1 {
		t.Fatalf("store options %+v", o)
	}
}

func TestConfigRefusals(t *testing.T) {
	for name, want := range map[string]string{
		"zero_cap":             "write a positive number",
		"no_directory":         "directory: required",
		"bad_size":             "not a byte size",
		"push_bad":             "push: max_removed_fraction: must be in [0, 1], e.g. 0.1 (1 switches the guard off); unmatched: \"send_everything\"; write drop or buffer",
		"push_bad_dead_letter": "push::dead_letter: max_bytes: 0 would refuse everything",
		"push_bad_root":        "push::destinations: file_root: \"srv/logpush\"; write an absolute directory",
	} {
		_, err := loadConfig(t, name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", name, err, want)
		}
	}
}

func TestBytesText(t *testing.T) {
	for in, want := range map[string]Bytes{"1024": 1024, "1KiB": 1024, "2 MiB": 2 << 20, "1GB": 1e9, "unlimited": -1, "-1": -1, "7B": 7} {
		var b Bytes
		if err := b.UnmarshalText([]byte(in)); err != nil || b != want {
			t.Errorf("%q -> %d, %v", in, b, err)
		}
		out, _ := b.MarshalText()
		var back Bytes
		if err := back.UnmarshalText(out); err != nil || back != b {
			t.Errorf("%q does not round-trip: %q", in, out)
		}
	}
	for _, in := range []string{"", "-2", "1XB", "99999999999TiB"} {
		var b Bytes
		if err := b.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	var a Age
	if err := a.UnmarshalText([]byte("-5m")); err == nil {
		t.Error("negative age accepted")
	}
}

func TestConfigPush(t *testing.T) {
	cfg, err := loadConfig(t, "push")
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Push
	if !p.Enabled() || p.Unmatched != "buffer" || p.Workers != 4 || p.QuantumBytes != 256<<10 || p.MaxRemovedFraction != 0.2 || p.BreakerFailures != 5 {
		t.Fatalf("%+v", p)
	}
	if got := cfg.storeOptions().Consumers; len(got) != 2 || got[1] != "push" {
		t.Fatalf("consumers %v", got)
	}
	if p.DeadLetter.MaxBytes != 2<<30 || p.DeadLetter.MaxBytesPerTenant != 100<<20 || !p.DeadLetter.MaxAge.Unlimited() ||
		p.Destinations.FileRoot != "/srv/logpush" || len(p.Destinations.AllowInsecureJobs) != 1 {
		t.Fatalf("push dead_letter / destinations %+v %+v", p.DeadLetter, p.Destinations)
	}
	def, _ := loadConfig(t, "")
	if def.Push.DeadLetter != defaultDeadLetterConfig() || def.Push.Destinations.FileRoot != "" {
		t.Fatalf("push dead_letter / destinations defaults %+v %+v", def.Push.DeadLetter, def.Push.Destinations)
	}
	if def.Push.Enabled() || def.Push.Unmatched != "drop" || def.Push.MaxRemovedFraction != 0.1 {
		t.Fatalf("push defaults %+v", def.Push)
	}
}

func TestConfigPushOneJobSource(t *testing.T) {
	// The job document comes from a file or a URL; with both, which one
	// is in force would be a guess.
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = t.TempDir()
	cfg.Push.JobsFile, cfg.Push.JobsURL = "/etc/otelcol-logx/jobs.yaml", "https://jobs.example.com/doc"
	err := confmap.Validate(cfg)
	if err == nil || !strings.Contains(err.Error(), "push: jobs_file and jobs_url are both set: write one of them") {
		t.Fatalf("both sources: %v", err)
	}
	cfg.Push.JobsURL = ""
	if err := confmap.Validate(cfg); err != nil {
		t.Fatal(err)
	}
}

// The nested groups validate themselves: each error is reported once, under
// the group's path, every problem of a group on its line.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = t.TempDir()
	cfg.Limits.MaxOpenFiles = 0
	cfg.Limits.MaxBuffers = -5
	cfg.Push.JobsFile = "/etc/otelcol-logx/jobs.yaml"
	cfg.Push.DeadLetter.MaxAge = 0
	err := confmap.Validate(cfg)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"limits: max_buffers: -5; write a positive number (e.g. 10000), or -1 to switch the buffer cap off; max_open_files: must be > 0",
		"push::dead_letter: max_age: 0 would remove every letter at once",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
	for _, once := range []string{"max_open_files", "max_age"} {
		if n := strings.Count(err.Error(), once); n != 1 {
			t.Errorf("%s reported %d times: %v", once, n, err)
		}
	}
}
