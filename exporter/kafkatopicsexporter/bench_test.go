package kafkatopicsexporter

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/exporter/kafkatopicsexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

const benchBatch = 1000

// benchLogs is a tier-2 batch: 1000 records from 50 hosts and 10 services
// in 4 formats, ~200-byte messages, a few attributes each.
func benchLogs(variant int) plog.Logs {
	ld := plog.NewLogs()
	msg := strings.Repeat("GET /api/v1/things?id=12345 200 ", 6)
	formats := []string{"nginx", "syslog", "postgres", "app"}
	for h := range 50 {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr(logattr.HostName, fmt.Sprintf("edge-%03d", (h+variant)%50))
		rl.Resource().Attributes().PutStr("dc", "ams01")
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := range benchBatch / 50 {
			lr := lrs.AppendEmpty()
			lr.SetTimestamp(pcommon.Timestamp(1_763_000_000_000_000_000 + 1_000_000*uint64(i))) //nolint:gosec // test data
			lr.SetSeverityText("info")
			lr.Body().SetStr(msg)
			a := lr.Attributes()
			a.PutStr(logattr.Service, fmt.Sprintf("svc-%d.service", i%10))
			a.PutStr(logattr.CFJS1Format, formats[i%len(formats)])
			a.PutInt("syslog.facility", 3)
		}
	}
	return ld
}

// BenchmarkExport measures throughput into an in-process kfake cluster
// through the real exporter (no queue: each op is one synchronous batch of
// 1000 records), with 4 callers at once like exporterhelper's queue
// consumers. kfake shares the CPU with the exporter.
func BenchmarkExport(b *testing.B) {
	for _, bc := range []struct {
		name, compression string
		callers           int // 0: one caller, serially; else per core
		linger            time.Duration
		noBacklog         bool // partition_backlog.enabled: false, for its cost
	}{
		{"zstd", "zstd", 2, 0, false}, {"lz4", "lz4", 2, 0, false}, {"none", "none", 2, 0, false}, {"zstd-serial", "zstd", 0, 0, false},
		{"zstd-linger5ms", "zstd", 2, 5 * time.Millisecond, false}, {"zstd-serial-linger5ms", "zstd", 0, 5 * time.Millisecond, false},
		{"zstd-serial-nobacklog", "zstd", 0, 0, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := newCluster(b, 8)
			cfg := testConfig(c)
			cfg.Producer.Compression = bc.compression
			cfg.Producer.Linger = bc.linger
			cfg.PartitionBacklog.Enabled = !bc.noBacklog
			h := startExporter(b, cfg)
			batches := []plog.Logs{benchLogs(0), benchLogs(1), benchLogs(2), benchLogs(3)}
			require.NoError(b, h.exp.ConsumeLogs(context.Background(), batches[0])) // topics exist
			b.ReportAllocs()
			b.ResetTimer()
			if bc.callers == 0 {
				for i := 0; b.Loop(); i++ {
					require.NoError(b, h.exp.ConsumeLogs(context.Background(), batches[i%len(batches)]))
				}
				b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
				return
			}
			b.SetParallelism(bc.callers)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if err := h.exp.ConsumeLogs(context.Background(), batches[i%len(batches)]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/record")
		})
	}
}

// BenchmarkRender measures pass 1 alone (topic, key and cfjs1 value of
// every record into the batch buffers): no Kafka, no allocation per record
// once the buffers have grown.
func BenchmarkRender(b *testing.B) {
	cfg := createDefaultConfig().(*Config)
	e, err := newKafkaExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(b, err)
	ld := benchLogs(0)
	bt := newBatch(nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		bt.reset(benchBatch)
		if err := e.render(bt, ld); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/record")
}

// TestRenderDoesNotAllocatePerRecord holds the hot path to its promise.
func TestRenderDoesNotAllocatePerRecord(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	e, err := newKafkaExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	ld := benchLogs(0)
	bt := newBatch(nil)
	bt.reset(benchBatch)
	require.NoError(t, e.render(bt, ld)) // grow the buffers
	allocs := testing.AllocsPerRun(20, func() {
		bt.reset(benchBatch)
		_ = e.render(bt, ld)
	})
	require.Zero(t, allocs, "render of %d records allocated", benchBatch)
}
