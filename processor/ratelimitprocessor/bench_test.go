package ratelimitprocessor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// benchKeyCounts are the numbers of distinct keys the benchmarks use.
// Every variant processes 100k records of the same layout and memory (only
// which key each record carries differs), every key is in the table before
// timing starts, and every record goes through the same lookup: the
// variants differ only in how many keys the table holds and in what order
// the records name them.
var benchKeyCounts = []int{1, 1000, 100_000}

// benchOrders are the orders in which records name their keys:
//
//   - uniform: each record's key is drawn uniformly at random, independent
//     of the previous record's: the worst case for caches.
//   - bursty: runs of one key, 1 to 32 records long (uniformly, mean 16.5),
//     each run's key drawn uniformly at random. This is what a collector
//     mostly sees: a receiver's batch holds what one host read in a few
//     milliseconds, in which a busy service's lines come one after another.
var benchOrders = []string{"uniform", "bursty"}

const (
	benchBatch   = 1000
	benchRecords = 100_000
	benchMaxRun  = 32
)

type benchInput struct {
	batches []plog.Logs
	keys    []string // every key, for warming the table
}

// benchKeysOf gives the key number of every record, in the given order.
func benchKeysOf(order string, keys int) []int {
	rng := rand.New(rand.NewPCG(uint64(keys), 7))
	out := make([]int, 0, benchRecords)
	for len(out) < benchRecords {
		k, run := rng.IntN(keys), 1
		if order == "bursty" {
			run = 1 + rng.IntN(benchMaxRun)
		}
		for ; run > 0 && len(out) < benchRecords; run-- {
			out = append(out, k)
		}
	}
	return out
}

func benchKey(k int) string { return fmt.Sprintf("service-%06d.service", k) }

// lastBenchInput is kept for the next variant with the same order and key
// count (processing leaves it intact); only one, to bound memory.
var lastBenchInput struct {
	id string
	in *benchInput
}

// newBenchInput builds 100 batches of 1000 records.
func newBenchInput(order string, keys int) *benchInput {
	id := fmt.Sprintf("%s/%d", order, keys)
	if lastBenchInput.id == id {
		return lastBenchInput.in
	}
	lastBenchInput.in = nil // collectable before the next one is built
	in := &benchInput{}
	for k := range keys {
		in.keys = append(in.keys, benchKey(k))
	}
	keyOf := benchKeysOf(order, keys)
	for i := 0; i < benchRecords; {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr(logattr.HostName, "bench-host")
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for range benchBatch {
			lr := lrs.AppendEmpty()
			lr.Attributes().PutStr(logattr.SyslogAppName, "app")
			lr.Attributes().PutStr(logattr.Service, benchKey(keyOf[i]))
			lr.Attributes().PutStr(logattr.SyslogProcID, "1234")
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
			lr.Body().SetStr("GET /index.html 200 512 bytes in 3 ms")
			i++
		}
		in.batches = append(in.batches, ld)
	}
	lastBenchInput.id, lastBenchInput.in = id, in
	return in
}

// warm puts every key in the table, then decides every record once.
func (in *benchInput) warm(b *testing.B, p *rateLimiter) {
	for _, k := range in.keys {
		s, _, overflowed := p.table.lookup(k, 0)
		s.mu.Unlock()
		if overflowed {
			b.Fatal("table full")
		}
	}
	for _, ld := range in.batches {
		if _, err := p.processLogs(context.Background(), ld); err != nil {
			b.Fatal(err)
		}
	}
	if got := p.table.len(); got != int64(len(in.keys)) {
		b.Fatalf("table holds %d keys, want %d", got, len(in.keys))
	}
}

func benchConfig(dropping bool) *Config {
	cfg := defaultConfig()
	cfg.MaxKeys = 200_000
	if dropping {
		// Everything over the limit; dry_run keeps the batch intact so that
		// it can be processed again.
		cfg.Rate, cfg.Burst, cfg.DryRun = 0.001, 1, true
	} else {
		cfg.Rate, cfg.Burst = 1e12, 1_000_000_000
	}
	return cfg
}

// benchVariants runs f for every order, decision and key count.
func benchVariants(b *testing.B, f func(b *testing.B, in *benchInput, dropping bool)) {
	for _, order := range benchOrders {
		for _, keys := range benchKeyCounts {
			for _, dropping := range []bool{false, true} {
				b.Run(fmt.Sprintf("order=%s/keys=%d/drop=%v", order, keys, dropping), func(b *testing.B) {
					f(b, newBenchInput(order, keys), dropping)
				})
			}
		}
	}
}

// meanProbe is how many slots (cache lines) finding a key in the table
// reads, averaged over its keys: 1 for a key at its home slot.
func (t *table) meanProbe() float64 {
	var keys, slots int
	for si := range t.shards {
		s := &t.shards[si]
		mask := len(s.slots) - 1
		for i := range s.slots {
			if tag := s.slots[i].tag; tag != 0 {
				keys++
				slots += 1 + (i-int(tag)&mask)&mask
			}
		}
	}
	return float64(slots) / float64(max(keys, 1))
}

// BenchmarkProcessLogs measures the per-record decision (key read, table
// lookup, token bucket, drop count) in steady state, every key already in
// the table: whole batches of 1000 records through processLogs on the real
// clock. One op is one batch; ns/record is reported beside it.
func BenchmarkProcessLogs(b *testing.B) {
	benchVariants(b, func(b *testing.B, in *benchInput, dropping bool) {
		p, _ := newTestLimiter(b, benchConfig(dropping), realClock{}, nopTelemetry())
		in.warm(b, p)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := int64(testutil.ProcessCPU())
		for i := range b.N {
			if _, err := p.processLogs(ctx, in.batches[i%len(in.batches)]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/record")
		b.ReportMetric(float64(int64(testutil.ProcessCPU())-cpu0)/float64(b.N*benchBatch), "cpu-ns/record")
		b.ReportMetric(p.table.meanProbe(), "slots/lookup")
	})
}

// BenchmarkProcessLogsParallel runs batches on every P at once (each
// goroutine its own batches), to show that the sharded table does not
// serialise records of different keys. One op is one batch.
func BenchmarkProcessLogsParallel(b *testing.B) {
	for _, keys := range benchKeyCounts {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			p, _ := newTestLimiter(b, benchConfig(false), realClock{}, nopTelemetry())
			in := newBenchInput("uniform", keys)
			in.warm(b, p)
			var workers atomic.Int32
			stride := runtime.GOMAXPROCS(0)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(workers.Add(1)-1) % stride
				for pb.Next() {
					if _, err := p.processLogs(context.Background(), in.batches[i]); err != nil {
						b.Error(err)
						return
					}
					if i += stride; i >= len(in.batches) {
						i %= stride
					}
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/record")
		})
	}
}
