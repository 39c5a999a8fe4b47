package journalreceiver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// TestCommitterNeverPassesUnreadBatch: the cursor is stored for accepted
// batches and for those refused for good, never past a batch dropped at
// shutdown; a delivery older than that batch that ends after it still
// stores its cursor.
func TestCommitterNeverPassesUnreadBatch(t *testing.T) {
	var saved []string
	c := committer{save: func(cur string) { saved = append(saved, cur) }}
	seqs := make([]uint64, 6)
	for i := range seqs {
		seqs[i] = c.begin()
	}
	// Each report waits for its store here, so that none coalesce and
	// every cursor that is stored shows.
	report := func(seq uint64, cursor string, err error) {
		c.done(seq, cursor, err)
		c.wait()
	}
	report(seqs[0], "c0", nil)
	report(seqs[1], "c1", &ingest.DropError{Reason: ingest.ReasonRefused})
	report(seqs[3], "c3", &ingest.DropError{Reason: ingest.ReasonShutdown}) // queued, dropped at the deadline
	report(seqs[2], "c2", nil)                                              // in flight, older: returns late
	report(seqs[4], "c4", nil)
	report(seqs[5], "", nil)
	assert.Equal(t, []string{"c0", "c1", "c2"}, saved)
}

// TestBatchKeyIsTheRecordsService: the service a batch is keyed by (the
// batcher sends a batch when the service changes) is the logx.service its
// records get: the unit, else the identifier, else default_service.
func TestBatchKeyIsTheRecordsService(t *testing.T) {
	conv := newConverter(testConfig(t.TempDir(), t.TempDir()))
	entries := []*Entry{
		testEntry(t, "_SYSTEMD_UNIT", "u.service", "SYSLOG_IDENTIFIER", "x"),
		testEntry(t, "SYSLOG_IDENTIFIER", "x"),
		testEntry(t),
	}
	conv.defaultService = "dflt"
	b := newBatchBuilder()
	for _, e := range entries {
		conv.append(b, e, 0)
	}
	lrs := b.logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	require.Equal(t, len(entries), lrs.Len())
	for i, e := range entries {
		v, _ := lrs.At(i).Attributes().Get(logattr.Service)
		assert.Equal(t, v.Str(), conv.service(e), "entry %d", i)
	}
}

func testEntry(t *testing.T, kv ...string) *Entry {
	t.Helper()
	var text string
	for i := 0; i+1 < len(kv); i += 2 {
		text += fmt.Sprintf("%s=%s\n", kv[i], kv[i+1])
	}
	text += "MESSAGE=m\n\n"
	e, err := NewExportReader(strings.NewReader(text), ExportLimits{}).Next()
	require.NoError(t, err)
	return e
}
