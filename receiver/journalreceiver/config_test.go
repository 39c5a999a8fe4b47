package journalreceiver

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/receiver/journalreceiver/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg.(*Config)
}

func TestConfigDefaultNeedsCursorPlace(t *testing.T) {
	cfg := loadConfig(t, "")
	assert.Equal(t, createDefaultConfig(), cfg)
	err := confmap.Validate(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cursor_directory")
	cfg.CursorDirectory = t.TempDir()
	require.NoError(t, confmap.Validate(cfg))
}

func TestConfigFull(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	storageID := component.MustNewIDWithName("file_storage", "journal")
	fairShare := true
	want := &Config{
		Reader:         readerJournalctl,
		JournalctlPath: "/usr/bin/journalctl",
		Directory:      "/var/log/journal",
		StartAt:        "beginning",
		Units:          []string{"nginx.service", "sshd.service"},
		Identifiers:    []string{"cron"},
		Priority:       "warning",
		Matches:        []string{"_TRANSPORT=syslog", "+", "_TRANSPORT=journal"},
		Fields:         FieldsConfig{Include: []string{"_PID", "_COMM"}},
		InvalidUTF8:    "bytes",
		DefaultService: "unknown",
		Storage:        &storageID,
		MaxEntryBytes:  65536,
		Batch:          BatchConfig{MaxEntries: 500, MaxBytes: 1 << 20, FlushInterval: time.Second},
		Buffer: ingest.BufferConfig{
			MaxBytes:  8 << 20,
			Policy:    ingest.DropOldest,
			FairShare: ingest.FairShareConfig{Enabled: &fairShare, MaxServices: 256},
		},
		RetryOnFailure: BackoffConfig{InitialInterval: 50 * time.Millisecond, MaxInterval: 2 * time.Second},
		Restart:        BackoffConfig{InitialInterval: 500 * time.Millisecond, MaxInterval: 10 * time.Second},
	}
	assert.Equal(t, want, cfg)

	args, err := journalctlArgs(cfg, position{})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"--output=export", "--follow", "--quiet", "--no-pager", "--directory=/var/log/journal", "--no-tail",
		"--unit=nginx.service", "--unit=sshd.service", "--identifier=cron", "--priority=warning",
		"--", "_TRANSPORT=syslog", "+", "_TRANSPORT=journal",
	}, args)
	args, err = journalctlArgs(cfg, position{cursor: "s=abc;i=1"})
	require.NoError(t, err)
	assert.Contains(t, args, "--cursor=s=abc;i=1")
	assert.Contains(t, args, "--no-tail", "journalctl would otherwise show only 10 entries after the cursor")
}

func TestConfigInvalidSaysWhatToWrite(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "bad"))
	require.Error(t, err)
	for _, want := range []string{
		"directory and files are both set",
		`start_at "middle": write "end" (only new entries), "beginning" (all the journal holds) or "overlap"`,
		`priority "loud": write 0..7`,
		`"nomatch" has no '='`,
		`"lower=x": field names are upper-case`,
		"include and exclude are both set",
		`invalid_utf8 "drop"`,
		"no place for the cursor",
		"max_entry_bytes 10",
		"fields: include and exclude are both set",
		// The batch group's problems stay on one line, under its path.
		"batch: max_entries 0: write a value from 1 to 100000 (default 1000); max_bytes 1: write a value from 1024 to 268435456 (default 4194304); flush_interval must be positive",
		"retry_on_failure: initial_interval",
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestStartAtEndUsesNoBacklog(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Files = []string{"rel/x.journal"}
	args, err := journalctlArgs(cfg, position{})
	require.NoError(t, err)
	assert.Contains(t, args, "--lines=0")
	abs, _ := filepath.Abs("rel/x.journal")
	assert.Contains(t, args, "--file="+abs, "journalctl cannot follow relative files")
	args, err = journalctlArgs(cfg, position{fromBeginning: true})
	require.NoError(t, err)
	assert.Contains(t, args, "--no-tail", "an unusable cursor reads from the oldest entry")
}

// The nested groups validate themselves: each error is reported once, under
// the group's path.
func TestConfigNestedGroupErrorReportedOnce(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.CursorDirectory = t.TempDir()
	cfg.Batch.MaxEntries = 0
	cfg.Restart.InitialInterval = 0
	cfg.Buffer.MaxBytes = 10
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, "batch: max_entries 0: write a value from 1 to 100000")
	require.ErrorContains(t, err, "restart: initial_interval must be positive")
	require.ErrorContains(t, err, "buffer: max_bytes must be at least 2097152")
	for _, once := range []string{"max_entries", "initial_interval must be positive", "max_bytes must be"} {
		assert.Equal(t, 1, strings.Count(err.Error(), once), "%s reported once: %v", once, err)
	}
}

// TestConfigReaderSaysWhatToWrite: an unknown reader, and a unit pattern
// the direct reader cannot expand, are refused with what to write.
func TestConfigReaderSaysWhatToWrite(t *testing.T) {
	cfg := testConfig("", t.TempDir())
	cfg.Reader = "libsystemd"
	require.ErrorContains(t, cfg.Validate(), `write "direct"`)

	cfg = testConfig("", t.TempDir())
	cfg.Units = []string{"app-*.service"}
	require.ErrorContains(t, cfg.Validate(), "use reader: journalctl")
	cfg.Reader = readerJournalctl
	require.NoError(t, cfg.Validate(), "journalctl expands patterns itself")
}
