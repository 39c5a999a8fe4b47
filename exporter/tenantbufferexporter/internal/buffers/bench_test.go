package buffers

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func benchOptions(dir string, sync bool) Options {
	o := testOptions(dir)
	o.MaxBuffers = Unlimited
	o.MaxTenantBytes = Unlimited
	o.MaxTotalBytes = Unlimited
	o.SegmentBytes = 16 << 20
	o.MaxOpenFiles = 256
	o.Consumers = nil
	o.Sync = sync
	return o
}

// makeBatch spreads n records of size bytes over the active tenants.
func makeBatch(rng *rand.Rand, active []string, n, size int) []TenantRecords {
	idx := map[string]int{}
	var batch []TenantRecords
	p := make([]byte, size)
	for range n {
		name := active[rng.IntN(len(active))]
		i, ok := idx[name]
		if !ok {
			i = len(batch)
			idx[name] = i
			batch = append(batch, TenantRecords{Tenant: name})
		}
		batch[i].Payloads = append(batch[i].Payloads, p)
	}
	return batch
}

// BenchmarkAppend measures append throughput: batches of records of 200
// bytes over 100 tenants. With fsync each Append returns only once its
// records are synced (the exporter's durability point); parallel callers
// (the pipeline's concurrent ConsumeLogs calls) share syncs.
func BenchmarkAppend(b *testing.B) {
	cases := []struct {
		sync     bool
		batch    int
		parallel int
	}{
		{true, 1000, 1}, {true, 8192, 1}, {true, 1000, 8}, {true, 8192, 4}, {false, 1000, 1},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("fsync=%v/batch=%d/callers=%d", c.sync, c.batch, c.parallel*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			s, err := Open(benchOptions(b.TempDir(), c.sync))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			active := make([]string, 100)
			for i := range active {
				active[i] = fmt.Sprint("tenant-", i)
			}
			batch := makeBatch(rand.New(rand.NewPCG(1, 1)), active, c.batch, 200)
			if _, err := s.Append(batch); err != nil { // create the tenants outside the timing
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetParallelism(c.parallel)
			b.ResetTimer()
			start := time.Now()
			var calls atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Append(batch); err != nil {
						b.Error(err)
						return
					}
					calls.Add(1)
				}
			})
			b.StopTimer()
			recs := float64(calls.Load()) * float64(c.batch)
			b.ReportMetric(recs/time.Since(start).Seconds(), "records/s")
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/recs, "ns/record")
		})
	}
}

// addIdleTenants registers n tenants the way recovery leaves an idle one:
// a segment on record, positions, no open file. Only their memory and their
// place in the tenant table matter to the benchmarks that use them.
func addIdleTenants(s *Store, n int) {
	for i := range n {
		name := fmt.Sprint("idle-", i)
		t := s.newTenant(name)
		t.segs = []segInfo{{base: 0, size: 4096, sealed: true}}
		t.end = 4096
		t.hasDir = true
		t.bytes.Store(4096)
		s.insert(name, t)
	}
}

// benchDir is where a benchmark's store lives: TENANTBUFFER_BENCH_DIR (e.g.
// /dev/shm, to take the file system's noise out of CPU-cost comparisons)
// or a test temp dir.
func benchDir(b *testing.B) string {
	base := os.Getenv("TENANTBUFFER_BENCH_DIR")
	if base == "" {
		return b.TempDir()
	}
	d, err := os.MkdirTemp(base, "tenantbuffer-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// BenchmarkAppendTenantCount: the per-record cost of appending to 100 busy
// tenants while the store holds N tenants in all. It must not grow with N
// (docs/design.md, principle 5: no scan, no global lock, no copy of the
// tenant table). Run without fsync so that the disk's latency does not
// drown the CPU cost.
func BenchmarkAppendTenantCount(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint("tenants=", n), func(b *testing.B) {
			s, err := Open(benchOptions(benchDir(b), false))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			addIdleTenants(s, n-100)
			active := make([]string, 100)
			for i := range active {
				active[i] = fmt.Sprint("busy-", i)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			batches := make([][]TenantRecords, 16)
			for i := range batches {
				batches[i] = makeBatch(rng, active, 1000, 200)
			}
			if _, err := s.Append(batches[0]); err != nil { // create the busy tenants untimed
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.Append(batches[i%len(batches)]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/record")
		})
	}
}

// BenchmarkIdleTenantMemory measures the heap an idle tenant costs: real
// tenants, each written once through Append, then closed by the idle sweep.
func BenchmarkIdleTenantMemory(b *testing.B) {
	const n = 20_000
	for range b.N {
		clk := newFakeClock()
		o := benchOptions(b.TempDir(), false)
		o.Now = clk.Now
		o.Consumers = []string{"push", "archive"}
		s, err := Open(o)
		if err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		p := [][]byte{make([]byte, 100)}
		for i := range n {
			if _, err := s.Append([]TenantRecords{{Tenant: fmt.Sprint("tenant-", i), Payloads: p}}); err != nil {
				b.Fatal(err)
			}
		}
		clk.Advance(time.Hour)
		s.Sweep() // closes every idle writer
		runtime.GC()
		runtime.ReadMemStats(&after)
		if st := s.Stats(); st.Buffers != n || st.OpenFiles != 0 {
			b.Fatalf("%+v", st)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heapB/idle-tenant")
		runtime.KeepAlive(s)
		s.Close()
	}
}
