package cfjs1exporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A batch of more lines than ack.window could never fit in flight: the
// exporter waited for acknowledgements of lines it had not sent, timed
// out, closed the connection and retried the same batch for ever. It is
// sent alone instead, once everything before it is acknowledged.
func TestBatchLargerThanWindowIsSentAlone(t *testing.T) {
	sink := newLineSink(t, false)
	cfg := testConfig(EndpointConfig{Name: "log-a", Endpoint: sink.addr()})
	cfg.Ack.Window = 10
	e := startExporter(t, cfg)

	require.NoError(t, e.pushLogs(context.Background(), makeLogs(5, "app")))
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(50, "app")), "a batch of 50 lines with a window of 10")
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(8, "app")))
	assert.EqualValues(t, 63, sink.lines.Load())
	assert.True(t, e.endpoints[0].isUp(), "the connection stayed up")
}
