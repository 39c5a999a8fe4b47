package tenantfilterprocessor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

const benchBatch = 1000

// benchJobs is a document of n jobs: nine in ten exact tenants, one in ten
// prefixes ("p<i>-", so prefix lengths vary as the numbers grow).
func benchJobs(n int) []byte {
	var b strings.Builder
	b.WriteString("jobs:\n")
	for i := range n {
		if i%10 == 9 {
			fmt.Fprintf(&b, "  - {name: j%d, prefix: p%d-, destination: {type: file, path: /srv/logpush/x}}\n", i, i)
			continue
		}
		fmt.Fprintf(&b, "  - {name: j%d, tenant: t%d, destination: {type: file, path: /srv/logpush/x}}\n", i, i)
	}
	return []byte(b.String())
}

// benchInput is a batch over n jobs: half the records of exact tenants
// with a job, a quarter matched by a prefix, a quarter of tenants without
// a job.
func benchInput(n int) (ld plog.Logs, admitted int) {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	ld = plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for k := range benchBatch {
		i := rng.IntN(n)
		var tenant string
		switch k % 4 {
		case 0, 1:
			i -= i % 10 // an exact job
			tenant = fmt.Sprint("t", i)
		case 2:
			i = i - i%10 + 9 // a prefix job
			if i >= n {
				i = 9
			}
			tenant = fmt.Sprintf("p%d-host%d", i, k)
		default:
			tenant = fmt.Sprint("nojob", k)
		}
		if k%4 != 3 {
			admitted++
		}
		lr := lrs.AppendEmpty()
		lr.Attributes().PutStr("logx.service", "svc")
		lr.Attributes().PutStr("logx.tenant", tenant)
		lr.Body().SetStr("a log line of ordinary length for the benchmark")
	}
	return ld, admitted
}

// BenchmarkFilter measures the filter itself (the copy of the input each
// round is outside the timer): ns and allocations per record at 10, 1,000
// and 100,000 jobs.
func BenchmarkFilter(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) {
			h := startFilter(b, testConfig(), benchJobs(n))
			in, admitted := benchInput(n)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				ld := plog.NewLogs()
				in.CopyTo(ld)
				b.StartTimer()
				out, err := h.f.processLogs(context.Background(), ld)
				if err != nil || out.LogRecordCount() != admitted {
					b.Fatalf("%d records out, want %d: %v", out.LogRecordCount(), admitted, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/record")
		})
	}
}

// The filter's allocations per batch do not depend on the number of jobs:
// 20,000 jobs cost a record what 10 do (20,000 rather than the
// benchmark's 100,000 keeps the document's parsing short under -race).
func TestAllocationsFlatInJobs(t *testing.T) {
	allocs := map[int]float64{}
	for _, n := range []int{10, 20000} {
		h := startFilter(t, testConfig(), benchJobs(n))
		in, admitted := benchInput(n)
		batches := make([]plog.Logs, 21) // AllocsPerRun runs once more than asked
		for i := range batches {
			batches[i] = plog.NewLogs()
			in.CopyTo(batches[i])
		}
		next := 0
		allocs[n] = testing.AllocsPerRun(20, func() {
			out, err := h.f.processLogs(context.Background(), batches[next])
			next++
			require.NoError(t, err)
			require.Equal(t, admitted, out.LogRecordCount())
		})
	}
	assert.Equal(t, allocs[10], allocs[20000], "allocations per batch of %d records by number of jobs: %v", benchBatch, allocs)
	assert.LessOrEqual(t, allocs[10], 10.0, "allocations per batch of %d records", benchBatch)
}
