package testutil

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// LineReader is a started line-reading receiver (fifo, unixsocket) behind
// a RefusingSink, as the shared scenarios need it.
type LineReader struct {
	Path    string                    // where a writer process writes lines
	Sink    *RefusingSink             // the receiver's consumer
	Held    func() int64              // bytes the receiver's ingest stage holds
	Dropped func(reason string) int64 // its dropped-records counter, "" for every reason
	// Counter reads another of its counters by the name after the
	// component's prefix (truncated_messages), for one reason ("" for all).
	Counter func(name, reason string) int64
	Write   func(t testing.TB, line []byte) // one line, as a new writer would
}

// NeverBlocksWriterWhileRefusing: the consumer refuses everything while a
// writer (a separate process) writes 100k lines; no write blocks for
// 100 ms, the drops (all buffer_full) are exactly the lines that did not
// arrive, and delivery resumes once the consumer accepts again.
func NeverBlocksWriterWhileRefusing(t *testing.T, r LineReader, bufferFull string) {
	r.Sink.SetRefusing(true)
	const total = 100_000
	writer := StartWriterProcess(t, r.Path, total)
	writer.WaitHalf(t)
	// Refusing, the buffer filled and the receiver dropped, while the
	// writer carries on.
	WaitFor(t, 30*time.Second, "drops while refusing", func() bool { return r.Dropped(bufferFull) > 0 })
	assert.Zero(t, r.Sink.LogRecordCount())
	r.Sink.SetRefusing(false)

	maxBlock := writer.Finish(t)

	all := func() int64 { return r.Dropped("") }
	WaitFor(t, 30*time.Second, "every line delivered or counted", func() bool {
		return int64(r.Sink.LogRecordCount())+all() == total && r.Held() == 0
	})
	t.Logf("delivered %d, dropped %d, longest write %v", r.Sink.LogRecordCount(), all(), maxBlock)
	assert.Less(t, maxBlock, 100*time.Millisecond)
	assert.Equal(t, all(), r.Dropped(bufferFull))

	// Delivery resumed: a line written now arrives, and nothing more is
	// dropped.
	before := r.Sink.LogRecordCount()
	r.Write(t, []byte("<14>writer: final\n"))
	WaitFor(t, 30*time.Second, "final line", func() bool { return r.Sink.LogRecordCount() == before+1 })
	recs := LogRecords(r.Sink.AllLogs())
	require.NotEmpty(t, recs)
	assert.Equal(t, "final", recs[len(recs)-1].Body().Str())
	assert.Equal(t, int64(total-before), all())
}
