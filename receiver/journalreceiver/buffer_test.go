package journalreceiver

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

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

// TestShutdownWhilePipelineRefusesReadsAgain: entries held in the stage
// when the receiver stops and the pipeline will not take them are counted
// (reason shutdown, by service) and not lost: no cursor was stored past
// them, and the next start delivers every one, in order.
func TestShutdownWhilePipelineRefusesReadsAgain(t *testing.T) {
	dir := t.TempDir()
	j := newTestJournal(t, dir, "a.journal")
	j.appendMessages("a", 10, field{"SYSLOG_IDENTIFIER", []byte("svc-a")})
	j.appendMessages("b", 10, field{"SYSLOG_IDENTIFIER", []byte("svc-b")})
	cursorDir := t.TempDir()
	cfg := testConfig(dir, cursorDir)
	refused := make(chan struct{}, 1)
	c := &recordingConsumer{refuse: func(int) error {
		select {
		case refused <- struct{}{}:
		default:
		}
		return errors.New("downstream full")
	}}
	r := startReceiver(t, cfg, c, nil)
	select {
	case <-refused:
	case <-time.After(30 * time.Second):
		t.Fatal("the pipeline was never offered anything")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	require.NoError(t, r.rcv.Shutdown(ctx))
	r.rcv = nil
	// What the stage held is counted by service; what the batcher had
	// not handed over yet was never taken, and is read again as well.
	dropped := r.counter("otelcol_logx_journal_dropped", "shutdown")
	assert.Positive(t, dropped)
	assert.LessOrEqual(t, dropped, int64(20))
	byService := droppedByService(t, r)
	assert.Equal(t, dropped, byService["svc-a"]+byService["svc-b"], "every drop counted under its service: %v", byService)
	cur, err := (&fileCursor{path: filepath.Join(cursorDir, cursorFileName(receiverSettings().ID))}).Load(context.Background())
	require.NoError(t, err)
	assert.Empty(t, cur, "no cursor stored past what the pipeline did not take")

	c2 := &recordingConsumer{}
	r2 := startReceiver(t, cfg, c2, nil)
	c2.waitCount(t, 20)
	r2.stop()
	assert.Equal(t, append(messages("a", 0, 10), messages("b", 0, 10)...), c2.bodies(), "read again, in order")
	for i, lr := range c2.records() {
		want := "svc-a"
		if i >= 10 {
			want = "svc-b"
		}
		v, _ := lr.Attributes().Get(logattr.Service)
		assert.Equal(t, want, v.Str())
	}
}

func droppedByService(t *testing.T, r *runningReceiver) map[string]int64 {
	m, err := r.tel.GetMetric("otelcol_logx_journal_dropped")
	require.NoError(t, err)
	out := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value("service")
		out[v.AsString()] += dp.Value
	}
	return out
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
