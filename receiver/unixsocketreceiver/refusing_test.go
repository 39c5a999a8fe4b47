package unixsocketreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestRefusingConsumerNeverBlocksWriter: the consumer refuses everything
// while a unix-stream writer (a separate process) writes 100k lines; no
// write blocks for 100 ms, the drop counter equals exactly the lines that
// did not arrive, and delivery resumes once the consumer accepts again.
func TestRefusingConsumerNeverBlocksWriter(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Buffer.MaxBytes = 2 << 20 })
	h.sink.SetRefusing(true)
	const total = 100_000
	writer := testutil.StartWriterProcess(t, h.cfg.Path, total)
	writer.WaitHalf(t)
	// Refusing, the buffer filled and the receiver dropped, while the
	// writer carries on.
	testutil.WaitFor(t, 30*time.Second, "drops while refusing", func() bool {
		return h.counter("otelcol_logx_unixsocket_dropped_records", ingest.ReasonBufferFull) > 0
	})
	assert.Zero(t, h.sink.LogRecordCount())
	h.sink.SetRefusing(false)

	maxBlock := writer.Finish(t)

	dropped := func() int64 { return h.counter("otelcol_logx_unixsocket_dropped_records", "") }
	testutil.WaitFor(t, 30*time.Second, "every line delivered or counted", func() bool {
		return int64(h.sink.LogRecordCount())+dropped() == total && h.rcv.stage.Held() == 0
	})
	t.Logf("delivered %d, dropped %d, longest write %v", h.sink.LogRecordCount(), dropped(), maxBlock)
	assert.Less(t, maxBlock, 100*time.Millisecond)
	assert.Equal(t, dropped(), h.counter("otelcol_logx_unixsocket_dropped_records", ingest.ReasonBufferFull))

	// Delivery resumed: a line written now arrives, and nothing more is
	// dropped.
	before := h.sink.LogRecordCount()
	c := h.dial()
	_, err := c.Write([]byte("<14>writer: final\n"))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	testutil.WaitFor(t, 30*time.Second, "final line", func() bool { return h.sink.LogRecordCount() == before+1 })
	recs := records(h.sink)
	assert.Equal(t, "final", recs[len(recs)-1].Body().Str())
	assert.Equal(t, int64(total-before), dropped())
}
