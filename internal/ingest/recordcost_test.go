package ingest

import (
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
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

// TestRecordCostMatchesMeasurement: the sizes the bound counts are what
// the runtime allocates, within a quarter: a parsed record (for the
// attribute room of a FIFO or datagram reader and of a stream reader with
// peer credentials), and a held batch beside its text.
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

	// A held batch: what Flush allocates beyond the text and line ends
	// (exact copies of them, the Build closure), plus its node.
	s := NewStage(BufferConfig{MaxBytes: 1 << 30}, StageSettings{Next: &switchConsumer{}})
	lines := NewLines(LinesSettings{Stage: s, Parser: syslog.Parser{Format: syslog.FormatRFC3164}})
	line := []byte("<30>Nov 22 04:00:00 nginx[4242]: GET /api/v1/items?id=1 HTTP/1.1 200")
	lines.Add(line)
	lines.Flush() // warm up: the stage's lists and free lists
	const batches = 4096
	measured := allocatedPer(batches, func() {
		for range batches {
			lines.Add(line)
			lines.Flush()
		}
	}) - float64(len(line)+LineIndexBytes)
	measured += float64(unsafe.Sizeof(node{})) // reused, but held while queued
	t.Logf("held batch beside its lines: measured %.0f B, counted %d B", measured, BatchOverhead)
	assert.InDelta(t, measured, float64(BatchOverhead), measured/4)
	assert.Equal(t, int64(batches+1)*LinesBatchSize(len(line), 1), s.Held())
}
