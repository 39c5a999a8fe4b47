package push

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
)

// benchDir: TENANTBUFFER_BENCH_DIR (e.g. /dev/shm, to see the CPU-bound
// ceiling without the file system's metadata cost) or a test temp dir.
func benchDir(b *testing.B) string {
	base := os.Getenv("TENANTBUFFER_BENCH_DIR")
	if base == "" {
		return b.TempDir()
	}
	d, err := os.MkdirTemp(base, "tenantbuffer-push-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// BenchmarkPushFile: push throughput to the file destination across 10,000
// tenants (20 records of ~1 KiB each, one batch per tenant), 8 workers.
// MB/s counts record payload bytes accepted by the destination.
func BenchmarkPushFile(b *testing.B) {
	const tenants, perTenant = 10_000, 20
	for _, fsync := range []bool{true, false} {
		b.Run(fmt.Sprint("fsync=", fsync), func(b *testing.B) {
			lr := plog.NewLogRecord()
			lr.Body().SetStr(strings.Repeat("x", 1000))
			lr.Attributes().PutStr("logx.tenant", "t")
			payload, err := enc.Encode(lr)
			if err != nil {
				b.Fatal(err)
			}
			var pushed int64
			var elapsed time.Duration
			for range b.N {
				b.StopTimer()
				st := openStore(b, benchDir(b))
				out := benchDir(b)
				batch := make([]buffers.TenantRecords, 0, 1000)
				names := make([]string, tenants)
				for i := range tenants {
					names[i] = fmt.Sprint("t-", i)
					ps := make([][]byte, perTenant)
					for k := range ps {
						ps[k] = payload
					}
					batch = append(batch, buffers.TenantRecords{Tenant: names[i], Payloads: ps})
					if len(batch) == cap(batch) {
						if _, err := st.Append(batch); err != nil {
							b.Fatal(err)
						}
						batch = batch[:0]
					}
				}
				jt := table(b, fmt.Sprintf(`jobs: [{name: all, prefix: t-, destination: {type: file, path: %s, fsync: %v}, batch: {max_records: %d, max_interval: 1h}}]`, out, fsync, perTenant))
				p := New(Options{Store: st, Consumer: "push", Jobs: jt, Workers: 8, QuantumBytes: 1 << 20,
					BackoffInitial: time.Second, BackoffMax: time.Second, BreakerFailures: 5, BreakerOpen: time.Second, DeadLetterDir: b.TempDir()})
				b.StartTimer()
				start := time.Now()
				p.Start(names)
				want := int64(tenants * perTenant)
				for p.Records.Load() < want {
					time.Sleep(time.Millisecond)
				}
				elapsed += time.Since(start)
				b.StopTimer()
				pushed += p.Bytes.Load()
				p.Stop()
				st.Close()
			}
			b.ReportMetric(float64(pushed)/1e6/elapsed.Seconds(), "MB/s")
			b.ReportMetric(float64(int64(b.N)*tenants)/elapsed.Seconds(), "batches/s")
		})
	}
}
