package ingest

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
)

// allocatedPer returns the bytes the runtime reports as allocated by f,
// divided by per.
func allocatedPer(per int, f func()) float64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(per)
}

func testLines(n int) (arena []byte, ends []int) {
	for i := range n {
		arena = append(arena, fmt.Sprintf("<30>Nov 22 04:00:00 nginx[4242]: GET /api/v1/items?id=%d HTTP/1.1 200", i)...)
		ends = append(ends, len(arena))
	}
	return arena, ends
}

// TestRecordCostMatchesMeasurement: the size the bound counts for a parsed
// record is what the runtime allocates for it, within a quarter (for the
// attribute room of a FIFO or datagram reader and of a stream reader with
// peer credentials). A held batch is measured as the heap it keeps alive,
// in TestHeldBytesMatchHeapGrowth.
func TestRecordCostMatchesMeasurement(t *testing.T) {
	const n, rounds = 1024, 8
	arena, ends := testLines(n)
	for _, extra := range []int{1, 5} {
		id := NewServiceIdentity("", "fallback")
		set := LinesSettings{
			Parser:          syslog.Parser{Format: syslog.FormatRFC3164},
			Scope:           "test",
			Decorate:        id.Set,
			ExtraAttributes: extra,
		}
		kept := make([]plog.Logs, 0, rounds)
		measured := allocatedPer(n*rounds, func() {
			for range rounds {
				kept = append(kept, set.build(arena, ends, 0))
			}
		})
		runtime.KeepAlive(kept)
		counted := float64(parsedRecordBytes(extra))
		t.Logf("parsed record, %d extra attributes: measured %.0f B, counted %.0f B", extra, measured, counted)
		assert.InDelta(t, measured, counted, measured/4)
	}
}

// TestHeldBytesMatchHeapGrowth: what the stage counts for the records it
// holds (Held, against buffer.max_bytes) is the heap they keep alive,
// within a quarter, whether a read brings one line (a batch per line, the
// batch's own cost counts most) or a hundred.
func TestHeldBytesMatchHeapGrowth(t *testing.T) {
	const records = 20_000
	for _, perBatch := range []int{1, 100} {
		t.Run(fmt.Sprintf("%d_lines_per_batch", perBatch), func(t *testing.T) {
			s := NewStage(BufferConfig{MaxBytes: 1 << 30}, StageSettings{Next: &switchConsumer{}})
			defer func() { require.NoError(t, s.Shutdown(context.Background())) }()
			lines := NewLines(LinesSettings{Stage: s, Parser: syslog.Parser{Format: syslog.FormatRFC3164}})
			line := make([]byte, 0, 128)
			heap := func() uint64 {
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return m.HeapAlloc
			}
			before := heap()
			for i := range records {
				line = fmt.Appendf(line[:0], "<30>Nov 22 04:00:00 nginx[4242]: GET /api/v1/items?id=%08d HTTP/1.1 200 rt=0.012", i)
				lines.Add(line)
				if (i+1)%perBatch == 0 {
					lines.Flush()
				}
			}
			grown := float64(heap() - before)
			held := float64(s.Held())
			t.Logf("%d records, %d a batch: heap grew %.0f B (%.0f B a record), counted %.0f B (%.0f B a record)",
				records, perBatch, grown, grown/records, held, held/records)
			assert.InDelta(t, grown, held, grown/4)
			runtime.KeepAlive(lines)
		})
	}
}
