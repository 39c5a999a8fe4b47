package journalreceiver

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
)

func allocatedBy(f func()) float64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc - before.TotalAlloc)
}

// TestBatchCostMatchesMeasurement: what a batch counts against
// buffer.max_bytes, held and converted, is what the runtime allocates for
// it, within a quarter, for entries with the fields journald sets.
func TestBatchCostMatchesMeasurement(t *testing.T) {
	const n = 2000
	var text strings.Builder
	for i := range n {
		fmt.Fprintf(&text, "__CURSOR=s=0123456789abcdef;i=%x;b=0123456789abcdef;m=%x;t=%x;x=%x\n", i, i, i, i)
		fmt.Fprintf(&text, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n", 1_700_000_000_000_000+i, i)
		text.WriteString("_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=testhost\nPRIORITY=6\n")
		text.WriteString("_SYSTEMD_UNIT=nginx.service\nSYSLOG_IDENTIFIER=nginx\n_PID=4242\n_UID=33\n_COMM=nginx\n")
		fmt.Fprintf(&text, "MESSAGE=GET /api/v1/items?id=%d HTTP/1.1 200\n\n", i)
	}
	rd := NewExportReader(strings.NewReader(text.String()), ExportLimits{})
	batch := make([]*Entry, 0, n)
	heldMeasured := allocatedBy(func() {
		for {
			e, err := rd.Next()
			if err == io.EOF {
				return
			}
			require.NoError(t, err)
			batch = append(batch, e)
		}
	}) + 8*n // the batch's pointers, allocated here up front
	heldCounted := float64(batchCost(batch) - ingest.BatchOverhead)
	t.Logf("held: measured %.0f B/entry, counted %.0f B/entry", heldMeasured/n, heldCounted/n)
	assert.InDelta(t, heldMeasured, heldCounted, heldMeasured/4)

	conv := newConverter(testConfig(t.TempDir(), t.TempDir()))
	var ld plog.Logs
	parsedMeasured := allocatedBy(func() {
		b := newBatchBuilder()
		for _, e := range batch {
			conv.append(b, e, 0)
		}
		ld = b.logs
	})
	require.Equal(t, n, ld.LogRecordCount())
	parsedCounted := float64(parsedCost(batch))
	t.Logf("converted: measured %.0f B/entry, counted %.0f B/entry", parsedMeasured/n, parsedCounted/n)
	assert.InDelta(t, parsedMeasured, parsedCounted, parsedMeasured/4)
}
