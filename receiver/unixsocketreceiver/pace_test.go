package unixsocketreceiver

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestLoneLineAfterSteadyWriting: a writer writes one line per write at
// 10k lines/s, so that its reader paces its reads, then a line now and
// then: each of those reaches the consumer within the 200 ms a line may
// take (a pause adds at most a few milliseconds to the stage's linger).
func TestLoneLineAfterSteadyWriting(t *testing.T) {
	for _, tr := range []Transport{Stream, Datagram} {
		t.Run(string(tr), func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Transport = tr })
			c := h.dial()
			defer c.Close()
			res, err := testutil.WriteAtRate(10_000, 300*time.Millisecond, func(line []byte) error {
				_, err := c.Write(line)
				return err
			})
			require.NoError(t, err)
			testutil.WaitFor(t, 10*time.Second, "the steady lines delivered", func() bool {
				return h.sink.LogRecordCount() == res.Lines
			})
			var worst time.Duration
			for i := range 10 {
				before := h.sink.LogRecordCount()
				written := time.Now()
				_, err := fmt.Fprintf(c, "<14>Nov 22 04:00:00 writer[1]: lone line %d\n", i)
				require.NoError(t, err)
				arrived := testutil.WaitFor(t, 2*time.Second, "the lone line delivered", func() bool {
					return h.sink.LogRecordCount() == before+1
				})
				worst = max(worst, arrived.Sub(written))
			}
			t.Logf("%d steady lines, then lone lines: worst %v from write to consumer", res.Lines, worst)
			assert.Less(t, worst, 200*time.Millisecond)
		})
	}
}
