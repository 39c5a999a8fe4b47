package journalreceiver

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func TestOverlapArgs(t *testing.T) {
	cfg := overlapConfig("", t.TempDir(), 5*time.Minute)
	since := time.UnixMicro(1_700_000_000_123_456)
	args, err := journalctlArgs(cfg, position{since: since})
	require.NoError(t, err)
	assert.Contains(t, args, "--since=@1700000000.123456")
	assert.Contains(t, args, "--no-tail", "--follow alone would start with the last 10 entries")
	args, err = journalctlArgs(cfg, position{cursor: "s=abc", since: since})
	require.NoError(t, err)
	assert.Contains(t, args, "--cursor=s=abc")
	assert.NotContains(t, strings.Join(args, " "), "--since", "a cursor wins over the start point")
}

func TestConfigOverlapSaysWhatToWrite(t *testing.T) {
	for _, tc := range []struct {
		startAt string
		overlap time.Duration
		want    string
	}{
		{"overlap", 0, "start_at: overlap needs overlap between 1s and 24h0m0s (got 0s)"},
		{"overlap", 48 * time.Hour, "needs overlap between 1s and 24h0m0s (got 48h0m0s)"},
		{"overlap", 100 * time.Millisecond, "overlap 100ms is below 1s"},
		{"end", 5 * time.Minute, `overlap 5m0s is used only with start_at: overlap (start_at is "end")`},
		{"-5m", 0, `start_at "-5m": write "end" (only new entries), "beginning" (all the journal holds) or "overlap"`},
	} {
		cfg := overlapConfig("", t.TempDir(), tc.overlap)
		cfg.StartAt = tc.startAt
		err := confmap.Validate(cfg)
		require.Error(t, err, "%s %v", tc.startAt, tc.overlap)
		assert.Contains(t, err.Error(), tc.want)
	}
	require.NoError(t, confmap.Validate(overlapConfig("", t.TempDir(), 5*time.Minute)))
}

func overlapConfig(dir, cursorDir string, overlap time.Duration) *Config {
	cfg := testConfig(dir, cursorDir)
	cfg.StartAt = "overlap"
	cfg.Overlap = overlap
	return cfg
}
