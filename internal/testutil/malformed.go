package testutil

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// OversizedMalformedAndInvalidUTF8: one writer sends a line beyond the
// receiver's max_message_size of 1024 bytes, a line with no syslog header,
// one with invalid UTF-8 and a good one. The first is cut to the limit,
// the second is kept whole as its body, the invalid bytes become U+FFFD,
// the last comes through; the truncation and the missing header are
// counted, and nothing is lost.
func OversizedMalformedAndInvalidUTF8(t *testing.T, r LineReader) {
	const header = "<13>app: "
	r.Write(t, []byte(header+strings.Repeat("x", 200_000)+"\n"+
		"not syslog at all\n"+
		header+"bad \xff\xfe utf8\n"+
		header+"after\n"))
	WaitFor(t, 30*time.Second, "4 records", func() bool { return r.Sink.LogRecordCount() == 4 })
	recs := LogRecords(r.Sink.AllLogs())
	assert.Len(t, recs[0].Body().Str(), 1024-len(header))
	assert.Equal(t, "not syslog at all", recs[1].Body().Str())
	assert.Equal(t, "bad \uFFFD\uFFFD utf8", recs[2].Body().Str())
	assert.Equal(t, "after", recs[3].Body().Str())
	assert.Equal(t, int64(1), r.Counter("truncated_messages", ""))
	assert.Equal(t, int64(1), r.Counter("malformed_messages", "no_pri"))
}
