package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// TestExampleConfigWithEcho runs configs/example-fifo.yaml (its debug
// exporter swapped for a sink, its health check and metrics endpoint moved
// to free loopback ports) in a whole collector and writes to the FIFO with
// the shell's echo, as the README shows. The collector observes itself as
// configured: the health check answers, and its Prometheus endpoint counts
// the two records the fifo receiver accepted.
func TestExampleConfigWithEcho(t *testing.T) {
	state := t.TempDir()
	t.Setenv("LOGX_STATE_DIR", state)
	raw, err := os.ReadFile(filepath.Join("..", "configs", "example-fifo.yaml"))
	require.NoError(t, err)
	cfg := strings.Replace(string(raw), "exporters: [debug]", "exporters: [sink/out]", 1)
	cfg = strings.Replace(cfg, "exporters:\n", "exporters:\n  sink/out: {}\n", 1)
	sink := &collectortest.Sink{}
	col := collectortest.Start(t, cfg, collectortest.WithSinks(map[string]*collectortest.Sink{"out": sink}),
		collectortest.WithFreeSelfPorts())
	col.WaitHealthy(t)

	fifo := filepath.Join(state, "app.fifo")
	for _, line := range []string{"<13>Nov 22 04:00:00 myapp[42]: hello from a pipe", "a raw line"} {
		out, err := exec.Command("sh", "-c", `echo "$1" > "$2"`, "sh", line, fifo).CombinedOutput()
		require.NoError(t, err, string(out))
	}
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 2 }, 30*time.Second, 5*time.Millisecond)
	lrs := sink.AllLogs()
	var bodies []string
	for _, ld := range lrs { // a request may hold several merged batches
		for j := 0; j < ld.ResourceLogs().Len(); j++ {
			rs := ld.ResourceLogs().At(j).ScopeLogs().At(0).LogRecords()
			for i := 0; i < rs.Len(); i++ {
				bodies = append(bodies, rs.At(i).Body().Str())
			}
		}
	}
	assert.Equal(t, []string{"hello from a pipe", "a raw line"}, bodies)
	svc, ok := lrs[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get(logattr.Service)
	require.True(t, ok)
	assert.Equal(t, "myapp", svc.Str())

	// The receiver's obsreport counts after the pipeline returned, so wait.
	accepted := regexp.MustCompile(`(?m)^otelcol_receiver_accepted_log_records\{[^}]*receiver="fifo"[^}]*\} 2$`)
	col.WaitMetrics(t, accepted.MatchString)
	require.NoError(t, col.Shutdown())
}
