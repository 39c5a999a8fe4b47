package unixsocketreceiver

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The consumer refuses everything while a unix-stream writer (a separate
// process) writes 100k lines: see testutil.NeverBlocksWriterWhileRefusing.
func TestRefusingConsumerNeverBlocksWriter(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Buffer.MaxBytes = 2 << 20 })
	testutil.NeverBlocksWriterWhileRefusing(t, h.lineReader(), ingest.ReasonBufferFull)
}

// lineReader is the harness as the shared line-reader scenarios see it:
// each Write is one stream connection.
func (h *harness) lineReader() testutil.LineReader {
	return testutil.LineReader{
		Path: h.cfg.Path, Sink: h.sink, Held: h.rcv.stage.Held,
		Dropped: func(reason string) int64 { return h.counter("otelcol_logx_unixsocket_dropped_records", reason) },
		Counter: func(name, reason string) int64 { return h.counter("otelcol_logx_unixsocket_"+name, reason) },
		Write: func(t testing.TB, line []byte) {
			c := h.dial()
			_, err := c.Write(line)
			require.NoError(t, err)
			require.NoError(t, c.Close())
		},
	}
}
