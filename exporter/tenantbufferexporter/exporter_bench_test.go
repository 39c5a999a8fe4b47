package tenantbufferexporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// BenchmarkConsumeLogs: the exporter end to end (tenant lookup, encoding,
// append, fsync) for batches of 8192 records of ~200 bytes over 100 tenants.
func BenchmarkConsumeLogs(b *testing.B) {
	cfg := testConfig(b.TempDir())
	cfg.Consumers = nil
	cfg.Limits.MaxTotalBytes = -1
	cfg.Limits.MaxBytesPerTenant = -1
	_, e := startExporter(b, cfg, nil)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "bench-host")
	sl := rl.ScopeLogs().AppendEmpty()
	for i := range 8192 {
		lr := sl.LogRecords().AppendEmpty()
		lr.Attributes().PutStr(logattr.Tenant, fmt.Sprint("tenant-", i%100))
		lr.Attributes().PutStr("logx.service", "nginx.service")
		lr.Body().SetStr(fmt.Sprintf("GET /index.html 200 %d bytes in 12ms from 10.0.0.%d user-agent curl/8.0", i, i%256))
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := e.consumeLogs(ctx, ld); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N*8192)/time.Since(start).Seconds(), "records/s")
}
