package cfjs1exporter

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestBatchBufferOutlivesGarbageCollection: the buffer a batch is encoded
// into is kept for the next batch across garbage collections (a busy
// pipeline runs several a second), not allocated and grown anew each time:
// for short lines, and for a full batch (5000) of journal-sized lines of
// about 1 KiB, 5 MB in all.
func TestBatchBufferOutlivesGarbageCollection(t *testing.T) {
	journalLines := makeLogs(5000, "nginx")
	body := strings.Repeat("j", 900)
	for _, lr := range journalLines.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().All() {
		lr.Body().SetStr(body)
	}
	for name, ld := range map[string]plog.Logs{"short lines": makeLogs(2000, "nginx"), "journal lines": journalLines} {
		t.Run(name, func(t *testing.T) {
			sink := newLineSink(t, false)
			noAck := false
			e := startExporter(t, testConfig(EndpointConfig{Name: "log-a", Endpoint: sink.addr(), Ack: &noAck}))
			batch, _, _ := e.encode(nil, ld)
			require.NoError(t, e.pushLogs(context.Background(), ld)) // the buffer grows once

			var before, after runtime.MemStats
			runtime.GC()
			runtime.GC() // a sync.Pool drops what it held at the second
			runtime.ReadMemStats(&before)
			require.NoError(t, e.pushLogs(context.Background(), ld))
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			assert.Less(t, allocated, uint64(len(batch)/4),
				"a batch of %d bytes allocated %d bytes: its buffer was made again", len(batch), allocated)
		})
	}
}

func TestLineBuffersKeepBounded(t *testing.T) {
	l := newLineBuffers(1)
	big := make([]byte, 0, maxKeptBuf+1)
	l.put(&big)
	assert.Equal(t, firstBuf, cap(*l.get()), "a buffer over maxKeptBuf is not kept")
	first, second := l.get(), l.get()
	*first = append(*first, "kept"...)
	l.put(first)
	l.put(second) // no room: dropped
	got := l.get()
	assert.Same(t, first, got)
	assert.Empty(t, *got, "a kept buffer comes back empty")
}
