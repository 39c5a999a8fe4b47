package push

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
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
// tenants, 8 workers, records of ~1 KiB.
//
// The job has the shipped batch defaults (max_records 10000, max_bytes
// 8 MiB, max_interval 30s). With 10,000 tenants no tenant fills a batch by
// records or bytes: what closes a batch is max_interval, so a batch holds
// what its tenant received in 30 s. At the 100 MB/s a push job is built for,
// spread over 10,000 tenants, that is ~300 KB; the batch=256KiB cases
// (256 records per tenant) are that steady state. The pusher's clock runs
// a minute ahead so that every tenant's interval is due at once rather
// than after 30 s of waiting. The batch=20KiB cases (20 records per
// tenant) are the same 10,000 tenants at a tenth of that rate: many small
// files, a test of the cost per file.
//
// Every case is warm: an untimed first round (one record per tenant) has
// created the tenants' destination directories and position files, as in
// the steady state; the cold case times that first round instead. The
// store's data is synced before the timed round, so that no case pays for
// the write-back of the benchmark's own set-up.
//
// MB/s counts record payload bytes accepted by the destination (the NDJSON
// written is ~15% larger); cpu-ms/MB is the process's CPU time per payload
// MB during the timed round (it leaves out the kernel's write-back and
// journal threads); allocs/op and B/op are per round of 10,000 batches.
func BenchmarkPushFile(b *testing.B) {
	const tenants = 10_000
	cases := []struct {
		name, dest string
		perTenant  int
		cold       bool
	}{
		{"batch=256KiB/fsync=true/mode=group", "fsync: true, fsync_mode: group", 256, false},
		{"batch=256KiB/fsync=true/mode=file", "fsync: true, fsync_mode: file", 256, false},
		{"batch=256KiB/fsync=false", "fsync: false", 256, false},
		{"batch=20KiB/fsync=true/mode=group", "fsync: true, fsync_mode: group", 20, false},
		{"batch=20KiB/fsync=false", "fsync: false", 20, false},
		{"batch=20KiB/cold/fsync=false", "fsync: false", 20, true},
	}
	lr := plog.NewLogRecord()
	lr.Body().SetStr(strings.Repeat("x", 1000))
	lr.Attributes().PutStr("logx.tenant", "t")
	payload, err := enc.Encode(lr)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var pushed int64
			var elapsed, cpu time.Duration
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				storeDir, out := benchDir(b), benchDir(b)
				st := openStore(b, storeDir)
				names := make([]string, tenants)
				for i := range tenants {
					names[i] = fmt.Sprint("t-", i)
				}
				fill := func(n int) {
					batch := make([]buffers.TenantRecords, 0, 1000)
					for i := range tenants {
						ps := make([][]byte, n)
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
				// No batch section: the shipped defaults.
				jt := table(b, fmt.Sprintf(`jobs: [{name: all, prefix: t-, destination: {type: file, path: %s, %s}}]`, out, c.dest))
				p := New(Options{Store: st, Consumer: "push", Jobs: jt, Workers: 8, QuantumBytes: 1 << 20,
					BackoffInitial: time.Second, BackoffMax: time.Second, BreakerFailures: 5, BreakerOpen: time.Second,
					DeadLetters: openDeadLetters(b, b.TempDir()), Now: func() time.Time { return time.Now().Add(time.Minute) }})
				var want int64
				if !c.cold {
					fill(1)
					want = tenants
					p.Start(names)
					for p.Records.Load() < want {
						time.Sleep(time.Millisecond)
					}
					p.Bytes.Store(0)
				}
				fill(c.perTenant)
				want += int64(tenants * c.perTenant)
				syncFS(b, storeDir, out)
				b.StartTimer()
				start, cpu0 := time.Now(), testutil.ProcessCPU()
				if c.cold {
					p.Start(names)
				} else {
					for _, n := range names {
						p.Notify(n, c.perTenant)
					}
				}
				for p.Records.Load() < want {
					time.Sleep(time.Millisecond)
				}
				elapsed += time.Since(start)
				cpu += testutil.ProcessCPU() - cpu0
				b.StopTimer()
				pushed += p.Bytes.Load()
				p.Stop()
				st.Close()
			}
			mb := float64(pushed) / 1e6
			b.ReportMetric(mb/elapsed.Seconds(), "MB/s")
			b.ReportMetric(float64(cpu.Milliseconds())/mb, "cpu-ms/MB")
			b.ReportMetric(float64(int64(b.N)*tenants)/elapsed.Seconds(), "batches/s")
		})
	}
}

// syncFS writes back whatever the set-up left dirty on the file systems of
// dirs, so that the timed round does not pay for it.
func syncFS(b *testing.B, dirs ...string) {
	for _, d := range dirs {
		f, err := os.Open(d)
		if err != nil {
			b.Fatal(err)
		}
		err = unix.Syncfs(int(f.Fd()))
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}
