package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestLogfileExampleConfigRuns starts a whole collector on configs/example-logfile.yaml
// (the OTLP port made ephemeral, the health check and metrics endpoint on
// free loopback ports) with the state directory in a temporary directory,
// checks that it reports itself healthy and serves its own metrics, and
// shuts it down.
func TestLogfileExampleConfigRuns(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "configs", "example-logfile.yaml"))
	require.NoError(t, err)
	state := t.TempDir()
	t.Setenv("LOGX_STATE_DIR", state)
	cfg := strings.ReplaceAll(string(raw), "127.0.0.1:4317", "127.0.0.1:0")
	col := collectortest.Start(t, cfg, collectortest.WithFreeSelfPorts())
	col.WaitHealthy(t)
	col.WaitMetrics(t, func(m string) bool { return strings.Contains(m, "\notelcol_process_uptime ") })
	require.NoError(t, col.Shutdown())
}

// TestCollectorPipelineWritesFiles sends records over OTLP/gRPC to an
// in-process collector whose pipeline ends in the logfile exporter, and
// reads the files it wrote.
func TestCollectorPipelineWritesFiles(t *testing.T) {
	dir := t.TempDir()
	addr := testutil.FreeTCPAddr(t)
	cfg := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
exporters:
  logfile:
    path: %s/{logx.service}.log
    format: syslog
    flush:
      interval: 0s
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [logfile]
`, addr, dir)
	col := collectortest.Start(t, cfg)

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "edge-7")
	rec := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	rec.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 22, 1, 2, 3, 4000, time.UTC)))
	rec.SetSeverityNumber(plog.SeverityNumberError)
	rec.Body().SetStr("it works")
	rec.Attributes().PutStr("logx.service", "sshd")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
	require.NoError(t, err)

	// Export returns once the exporter wrote (no sending queue, flush
	// after every batch).
	b, err := os.ReadFile(filepath.Join(dir, "sshd.log"))
	require.NoError(t, err)
	require.Equal(t, "<11>1 2026-11-22T01:02:03.000004Z edge-7 sshd - - - it works\n", string(b))
	require.NoError(t, col.Shutdown())
}
