//go:build interop

package e2e

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// writeJournal appends entries "prefix-i" to a real journal file, from
// export-format input, with systemd-journal-remote.
func writeJournal(t *testing.T, path, prefix string, first, n int) {
	t.Helper()
	var in bytes.Buffer
	for i := range n {
		k := first + i
		fmt.Fprintf(&in, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=0123456789abcdef0123456789abcdef\n", 1_700_000_000_000_000+k*1000, k*1000+1)
		fmt.Fprintf(&in, "_HOSTNAME=h1\n_SYSTEMD_UNIT=app.service\nSYSLOG_IDENTIFIER=app\nPRIORITY=4\nMESSAGE=%s-%d\n\n", prefix, i)
	}
	cmd := exec.Command("/lib/systemd/systemd-journal-remote", "--output="+path, "-")
	cmd.Stdin = &in
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// TestCollectorWithFileStorage runs whole collectors with the cursor in
// file_storage: read N, restart the collector, append M, get exactly M.
func TestCollectorWithFileStorage(t *testing.T) {
	const n, m = 40, 9
	journalDir, stateDir := t.TempDir(), t.TempDir()
	journal := filepath.Join(journalDir, "system.journal")
	writeJournal(t, journal, "before", 0, n)
	config := `
extensions:
  file_storage:
    directory: ` + stateDir + `
receivers:
  journal:
    directory: ` + journalDir + `
    start_at: beginning
    storage: file_storage
    batch:
      flush_interval: 20ms
exporters:
  sink/out: {}
service:
  extensions: [file_storage]
  pipelines:
    logs:
      receivers: [journal]
      exporters: [sink/out]
`
	waitFor := func(s *collectortest.Sink, want int) {
		require.Eventually(t, func() bool { return s.LogRecordCount() >= want }, 30*time.Second, 10*time.Millisecond,
			"sink has %d of %d records", s.LogRecordCount(), want)
	}

	sink1 := &collectortest.Sink{}
	col := collectortest.Start(t, config, collectortest.WithSinks(map[string]*collectortest.Sink{"out": sink1}))
	waitFor(sink1, n)
	require.NoError(t, col.Shutdown())
	require.Len(t, bodies(sink1.AllLogs()), n)
	lr := sink1.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	svc, _ := lr.Attributes().Get(logattr.Service)
	assert.Equal(t, "app.service", svc.Str())

	sink2 := &collectortest.Sink{}
	col = collectortest.Start(t, config, collectortest.WithSinks(map[string]*collectortest.Sink{"out": sink2}))
	writeJournal(t, journal, "after", n, m)
	waitFor(sink2, m)
	require.NoError(t, col.Shutdown())
	var want []string
	for i := range m {
		want = append(want, fmt.Sprintf("after-%d", i))
	}
	assert.Equal(t, want, bodies(sink2.AllLogs()))
}
