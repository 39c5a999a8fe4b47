package logfileexporter

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// benchLogs is one batch of 1000 records of about 200 bytes of body, with
// the attributes a per-host receiver sets.
func benchLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(logattr.HostName, "edge-host-0042.example.net")
	recs := rl.ScopeLogs().AppendEmpty().LogRecords()
	ts := pcommon.NewTimestampFromTime(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	for i := range 1000 {
		r := recs.AppendEmpty()
		r.SetTimestamp(ts + pcommon.Timestamp(i*1000))
		r.SetSeverityNumber(plog.SeverityNumberInfo)
		r.Body().SetStr(fmt.Sprintf("%04d GET /api/v1/objects/%d?expand=owner 200 %s", i, i*7919, strings.Repeat("a", 150)))
		a := r.Attributes()
		a.PutStr(logattr.Service, "nginx.service")
		a.PutInt(logattr.SyslogFacility, 3)
		a.PutInt(logattr.SyslogProcID, 811)
	}
	return ld
}

func benchmarkFormat(b *testing.B, format, path string) {
	dir := b.TempDir()
	cfg := createDefaultConfig().(*Config)
	cfg.Path = dir + "/" + path
	cfg.Format = format
	// The file itself is measured: no rotation or compression competing
	// for the CPU, and no disk guard limit within the run.
	cfg.Rotation.MaxBytes = 0
	cfg.DiskGuard.MaxTotalBytes = 0
	require.NoError(b, cfg.Validate())
	e, err := newLogfileExporter(cfg, benchSettings())
	require.NoError(b, err)
	require.NoError(b, e.start(context.Background(), nil))
	defer func() { require.NoError(b, e.shutdown(context.Background())) }()

	ld := benchLogs()
	// Bytes per batch, as written.
	var c batchCounts
	e.mu.Lock()
	require.NoError(b, e.writeLogs(ld, &c))
	e.mu.Unlock()
	b.SetBytes(c.bytes)
	b.ReportAllocs()
	cpu0 := testutil.ProcessCPU()
	for b.Loop() {
		if err := e.pushLogs(context.Background(), ld); err != nil {
			b.Fatal(err)
		}
	}
	// The machine is shared: wall-clock MB/s falls when other processes
	// run. CPU time (user + system, this process) per batch tells what
	// the writer itself costs; cpu-MB/s is the rate one core would reach.
	cpu := testutil.ProcessCPU() - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	if cpu > 0 {
		b.ReportMetric(float64(c.bytes)*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
}

func BenchmarkWriteText(b *testing.B)   { benchmarkFormat(b, formatText, "text.log") }
func BenchmarkWriteSyslog(b *testing.B) { benchmarkFormat(b, formatSyslog, "syslog.log") }
func BenchmarkWriteJSON(b *testing.B)   { benchmarkFormat(b, formatJSON, "json.log") }
func BenchmarkWriteCFJS1(b *testing.B)  { benchmarkFormat(b, formatCFJS1, "cfjs1.log") }

// BenchmarkWriteTextTemplated renders the path per record.
func BenchmarkWriteTextTemplated(b *testing.B) {
	benchmarkFormat(b, formatText, "{logx.service}.log")
}

func benchSettings() exporter.Settings {
	return exportertest.NewNopSettings(metadata.Type)
}
