package kafkatopicsreceiver

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// BenchmarkConsumeCFJS1 reads 100,000 cfjs1 records (six partitions) from
// an in-process Kafka into a pipeline that only counts them. The broker
// runs in the same process, so the figure includes its share of the CPU.
func BenchmarkConsumeCFJS1(b *testing.B) {
	const records = 100_000
	c := newCluster(b, 6)
	for i := 0; i < records; i += 10_000 {
		produce(b, c, i, 10_000, 600)
	}
	var cpu time.Duration
	b.ResetTimer()
	for i := range b.N {
		var got atomic.Int64
		done := make(chan struct{})
		next, _ := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
			if got.Add(int64(ld.LogRecordCount())) == records {
				close(done)
			}
			return nil
		})
		cfg := testConfig(c, "bench-"+strconv.Itoa(i))
		cpu0, start := testutil.ProcessCPU(), time.Now()
		h := startReceiver(b, cfg, next)
		<-done
		cpu += testutil.ProcessCPU() - cpu0
		b.ReportMetric(float64(records)/time.Since(start).Seconds(), "records/s")
		b.StopTimer()
		_ = h.r.Shutdown(context.Background())
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*records), "ns/record")
	// CPU of the whole process (receiver, pipeline and the broker beside
	// them, from joining the group to the last record) per record, and
	// what it makes per core: 1e9 over it.
	cpuPerRecord := float64(cpu.Nanoseconds()) / float64(b.N*records)
	b.ReportMetric(cpuPerRecord, "cpu-ns/record")
	b.ReportMetric(1e9/cpuPerRecord, "records/s/core")
}
