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
	// warm: a first, untimed round has pushed one batch per tenant, so the
	// timed round finds the tenants' destination directories and position
	// files in place (the steady state); cold times that first round,
	// which creates them.
	cases := []struct {
		name, dest string
		warm       bool
	}{
		{"cold/fsync=true/mode=group", "fsync: true, fsync_mode: group", false},
		{"cold/fsync=true/mode=file", "fsync: true, fsync_mode: file", false},
		{"cold/fsync=false", "fsync: false", false},
		{"cold/fsync=false/format=cfjs1", "fsync: false, format: cfjs1", false},
		{"warm/fsync=true/mode=group", "fsync: true, fsync_mode: group", true},
		{"warm/fsync=false", "fsync: false", true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
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
				names := make([]string, tenants)
				for i := range tenants {
					names[i] = fmt.Sprint("t-", i)
				}
				fill := func() {
					batch := make([]buffers.TenantRecords, 0, 1000)
					for i := range tenants {
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
				}
				fill()
				jt := table(b, fmt.Sprintf(`jobs: [{name: all, prefix: t-, destination: {type: file, path: %s, %s}, batch: {max_records: %d, max_interval: 1h}}]`, out, c.dest, perTenant))
				p := New(Options{Store: st, Consumer: "push", Jobs: jt, Workers: 8, QuantumBytes: 1 << 20,
					BackoffInitial: time.Second, BackoffMax: time.Second, BreakerFailures: 5, BreakerOpen: time.Second, DeadLetterDir: b.TempDir()})
				want := int64(tenants * perTenant)
				if c.warm {
					p.Start(names)
					for p.Records.Load() < want {
						time.Sleep(time.Millisecond)
					}
					fill()
					want *= 2
					p.Bytes.Store(0)
				}
				b.StartTimer()
				start := time.Now()
				if c.warm {
					for _, n := range names {
						p.Notify(n, perTenant)
					}
				} else {
					p.Start(names)
				}
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
