//go:build interop

package journalreceiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/internal/lagsignal"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

func messages(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

// TestRestartReadsExactlyTheNewEntries is the journal receiver's restart test: read N,
// restart with the same cursor store, append M, get exactly the M.
func TestRestartReadsExactlyTheNewEntries(t *testing.T) {
	bothReaders(t, testRestartReadsExactlyTheNewEntries)
}

func testRestartReadsExactlyTheNewEntries(t *testing.T, reader string) {
	for _, store := range []string{"cursor_file", "storage_extension"} {
		t.Run(store, func(t *testing.T) {
			const n, m = 25, 7
			dir := t.TempDir()
			j := newTestJournal(t, dir, "a.journal")
			j.appendMessages("first", n)

			cfg := readerConfig(reader, dir, t.TempDir())
			var host component.Host
			if store == "storage_extension" {
				id := component.MustNewID("memstore")
				cfg.Storage, cfg.CursorDirectory = &id, ""
				host = &storageHost{ext: map[component.ID]component.Component{id: newMemStorage()}}
			}

			c1 := &recordingConsumer{}
			r1 := startReceiver(t, cfg, c1, host)
			c1.waitCount(t, n)
			r1.stop()
			require.Equal(t, messages("first", 0, n), c1.bodies())

			c2 := &recordingConsumer{}
			r2 := startReceiver(t, cfg, c2, host)
			j.appendMessages("second", m)
			c2.waitCount(t, m)
			r2.stop()
			assert.Equal(t, messages("second", 0, m), c2.bodies(), "exactly the new entries, in order, none repeated")
			assert.Zero(t, r2.counter("otelcol_logx_journal_cursor_lost", ""))
		})
	}
}

// TestFieldsAndBody checks the mapping into the log model on real journal
// files: binary fields, invalid UTF-8, a repeated field, a huge message.
func TestFieldsAndBody(t *testing.T) { bothReaders(t, testFieldsAndBody) }

func testFieldsAndBody(t *testing.T, reader string) {
	dir := t.TempDir()
	j := newTestJournal(t, dir, "a.journal")
	huge := bytes.Repeat([]byte("0123456789"), 300_000) // 3 MB, over max_entry_bytes
	j.append(
		j.entry([]byte("multi\nline\x00nul"),
			field{"PRIORITY", []byte("3")},
			field{"_SYSTEMD_UNIT", []byte("nginx.service")},
			field{"SYSLOG_IDENTIFIER", []byte("nginx")},
			field{"BLOB", []byte{0xff, 0xfe, 'a'}},
			field{"TAG", []byte("one")},
			field{"TAG", []byte("two")},
		),
		j.entry([]byte("bad \xff\xfe utf8"), field{"SYSLOG_IDENTIFIER", []byte("cron")}),
		j.entry(huge),
		j.entry([]byte("no identity")),
	)

	cfg := readerConfig(reader, dir, t.TempDir())
	cfg.DefaultService = "unknown"
	c := &recordingConsumer{}
	r := startReceiver(t, cfg, c, nil)
	c.waitCount(t, 4)
	recs := c.records()

	first := recs[0]
	assert.Equal(t, "multi\nline\x00nul", first.Body().Str(), "binary-safe body")
	assert.Equal(t, plog.SeverityNumberError, first.SeverityNumber())
	assert.Equal(t, "ERR", first.SeverityText())
	assert.Equal(t, time.UnixMicro(1_700_000_000_000_000+1000).UTC(), first.Timestamp().AsTime())
	assert.NotZero(t, first.ObservedTimestamp())
	attrs := first.Attributes().AsRaw()
	assert.Equal(t, "nginx.service", attrs[logattr.Service], "the unit wins over SYSLOG_IDENTIFIER")
	assert.Equal(t, "nginx.service", attrs[logattr.SystemdUnit])
	assert.Equal(t, "nginx", attrs["journal.SYSLOG_IDENTIFIER"])
	assert.Equal(t, "3", attrs["journal.PRIORITY"])
	assert.Equal(t, testBootID, attrs["journal._BOOT_ID"])
	assert.Equal(t, "\ufffda", attrs["journal.BLOB"], "a run of invalid bytes becomes one U+FFFD")
	assert.Equal(t, []any{"one", "two"}, attrs["journal.TAG"], "a repeated field becomes a slice")
	assert.NotContains(t, attrs, "journal.MESSAGE")
	assert.NotContains(t, attrs, "journal.__CURSOR")
	assert.NotContains(t, attrs, "journal.__REALTIME_TIMESTAMP")
	assert.Equal(t, "testhost", attrs["test.resource.host.name"], "host.name resource attribute from _HOSTNAME")

	assert.Equal(t, "bad \ufffd utf8", recs[1].Body().Str())
	assert.Equal(t, "cron", recs[1].Attributes().AsRaw()[logattr.Service])

	body := recs[2].Body().Str()
	assert.Less(t, len(body), cfg.MaxEntryBytes, "huge message cut to max_entry_bytes")
	assert.Greater(t, len(body), cfg.MaxEntryBytes-4096)
	assert.True(t, bytes.HasPrefix(huge, []byte(body)))
	assert.Equal(t, "unknown", recs[3].Attributes().AsRaw()[logattr.Service])
	assert.Equal(t, "no identity", recs[3].Body().Str(), "the stream stays in sync after a huge entry")

	require.Eventually(t, func() bool { return r.counter("otelcol_logx_journal_truncated", "") == 1 }, 10*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, 4, r.counter("otelcol_logx_journal_entries_read", ""))
	assert.EqualValues(t, 4, r.counter("otelcol_receiver_accepted_log_records", ""))
}

func TestInvalidUTF8AsBytes(t *testing.T) { bothReaders(t, testInvalidUTF8AsBytes) }

func testInvalidUTF8AsBytes(t *testing.T, reader string) {
	dir := t.TempDir()
	j := newTestJournal(t, dir, "a.journal")
	j.append(j.entry([]byte("raw \xff"), field{"BLOB", []byte{0xff}}))
	cfg := readerConfig(reader, dir, t.TempDir())
	cfg.InvalidUTF8 = "bytes"
	cfg.Fields.Include = []string{"BLOB", "__CURSOR"}
	c := &recordingConsumer{}
	startReceiver(t, cfg, c, nil)
	c.waitCount(t, 1)
	lr := c.records()[0]
	require.Equal(t, pcommon.ValueTypeBytes, lr.Body().Type())
	assert.Equal(t, []byte("raw \xff"), lr.Body().Bytes().AsRaw())
	attrs := lr.Attributes().AsRaw()
	assert.Equal(t, []byte{0xff}, attrs["journal.BLOB"])
	assert.Contains(t, attrs, "journal.__CURSOR", "listed address fields are kept")
	assert.NotContains(t, attrs, "journal._HOSTNAME", "include keeps only what it lists")
}

func TestFilters(t *testing.T) { bothReaders(t, testFilters) }

func testFilters(t *testing.T, reader string) {
	unit := func(u string) field { return field{"_SYSTEMD_UNIT", []byte(u)} }
	ident := func(s string) field { return field{"SYSLOG_IDENTIFIER", []byte(s)} }
	prio := func(p string) field { return field{"PRIORITY", []byte(p)} }
	for name, tc := range map[string]struct {
		set  func(*Config)
		want []string
		// sentinel passes the filter; appended last, its arrival proves
		// that every earlier entry was considered.
		sentinel []field
	}{
		"units":             {func(c *Config) { c.Units = []string{"a.service"} }, []string{"a-err", "a-info"}, []field{unit("a.service")}},
		"two units":         {func(c *Config) { c.Units = []string{"a.service", "b.service"} }, []string{"a-err", "a-info", "b-err"}, []field{unit("b.service")}},
		"unit without type": {func(c *Config) { c.Units = []string{"b"} }, []string{"b-err"}, []field{unit("b.service")}},
		"identifiers":       {func(c *Config) { c.Identifiers = []string{"cron"} }, []string{"cron-warn", "cron-debug"}, []field{ident("cron")}},
		"priority":          {func(c *Config) { c.Priority = "warning" }, []string{"a-err", "b-err", "cron-warn", "comm-x"}, []field{prio("0")}},
		"unit and priority": {func(c *Config) { c.Units = []string{"a.service"}; c.Priority = "3" }, []string{"a-err"}, []field{unit("a.service"), prio("1")}},
		"matches": {
			func(c *Config) { c.Matches = []string{"_COMM=x", "+", "SYSLOG_IDENTIFIER=cron", "PRIORITY=7"} },
			[]string{"cron-debug", "comm-x"}, []field{{"_COMM", []byte("x")}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			j := newTestJournal(t, dir, "a.journal")
			j.append(
				j.entry([]byte("a-err"), unit("a.service"), prio("3")),
				j.entry([]byte("a-info"), unit("a.service"), prio("6")),
				j.entry([]byte("b-err"), unit("b.service"), prio("3")),
				j.entry([]byte("cron-warn"), ident("cron"), prio("4")),
				j.entry([]byte("cron-debug"), ident("cron"), prio("7")),
				j.entry([]byte("comm-x"), field{"_COMM", []byte("x")}, prio("2")),
			)
			cfg := readerConfig(reader, dir, t.TempDir())
			tc.set(cfg)
			c := &recordingConsumer{}
			r := startReceiver(t, cfg, c, nil)
			j.append(j.entry([]byte("sentinel"), tc.sentinel...))
			c.waitCount(t, len(tc.want)+1)
			r.stop()
			assert.Equal(t, append(tc.want, "sentinel"), c.bodies())
		})
	}
}

// TestConsumerRefusesThenRecovers: while the pipeline refuses, the cursor
// does not move; once it accepts, every entry arrives exactly once.
func TestConsumerRefusesThenRecovers(t *testing.T) { bothReaders(t, testConsumerRefusesThenRecovers) }

func testConsumerRefusesThenRecovers(t *testing.T, reader string) {
	const n = 300
	dir := t.TempDir()
	j := newTestJournal(t, dir, "a.journal")
	j.appendMessages("e", n)
	cursorDir := t.TempDir()
	cfg := readerConfig(reader, dir, cursorDir)
	cfg.Batch.MaxEntries = 40

	refusing := make(chan struct{})
	c := &recordingConsumer{refuse: func(call int) error {
		if call <= 5 {
			if call == 5 {
				close(refusing)
			}
			return errors.New("downstream full")
		}
		return nil
	}}
	r := startReceiver(t, cfg, c, nil)
	select {
	case <-refusing:
	case <-time.After(30 * time.Second):
		t.Fatal("the consumer was never called 5 times")
	}
	cur, err := (&fileCursor{path: filepath.Join(cursorDir, cursorFileName(r.rcv.set.ID))}).Load(context.Background())
	require.NoError(t, err)
	assert.Empty(t, cur, "no cursor is stored while the pipeline refuses")

	c.waitCount(t, n)
	r.stop()
	assert.Equal(t, messages("e", 0, n), c.bodies(), "no loss, no duplicates, in order")
	sizes := c.callSizes()
	require.Greater(t, len(sizes), 5)
	for _, n := range sizes[1:5] {
		assert.Equal(t, sizes[0], n, "the refused batch is retried as it was")
	}
	assert.LessOrEqual(t, sizes[0], cfg.Batch.MaxEntries)
	assert.EqualValues(t, 5*sizes[0], r.counter("otelcol_receiver_refused_log_records", ""))
	assert.EqualValues(t, n, r.counter("otelcol_receiver_accepted_log_records", ""))

	// The cursor now names the last entry: a restart brings nothing.
	c2 := &recordingConsumer{}
	r2 := startReceiver(t, cfg, c2, nil)
	j.appendMessages("after", 1)
	c2.waitCount(t, 1)
	r2.stop()
	assert.Equal(t, []string{"after-0"}, c2.bodies())
}

func TestPermanentErrorDropsAndAdvances(t *testing.T) {
	dir := t.TempDir()
	j := newTestJournal(t, dir, "a.journal")
	j.appendMessages("p", 10)
	cfg := testConfig(dir, t.TempDir())
	c := &recordingConsumer{refuse: func(int) error { return consumererror.NewPermanent(errors.New("bad data")) }}
	r := startReceiver(t, cfg, c, nil)
	require.Eventually(t, func() bool { return r.counter("otelcol_logx_journal_dropped", "permanent_error") == 10 }, 20*time.Second, 10*time.Millisecond)
	r.stop()

	c2 := &recordingConsumer{}
	r2 := startReceiver(t, cfg, c2, nil)
	j.appendMessages("q", 1)
	c2.waitCount(t, 1)
	r2.stop()
	assert.Equal(t, []string{"q-0"}, c2.bodies(), "dropped entries are not read again")
}

// TestStartAtEnd: only entries written after the first start are read, and
// entries written while the receiver is down are not skipped, even before
// it has delivered anything.
func TestStartAtEnd(t *testing.T) { bothReaders(t, testStartAtEnd) }

func testStartAtEnd(t *testing.T, reader string) {
	for _, oldEntries := range []int{0, 3} {
		t.Run(fmt.Sprintf("%d old entries", oldEntries), func(t *testing.T) {
			dir := t.TempDir()
			j := newTestJournal(t, dir, "system.journal")
			if oldEntries > 0 {
				j.appendMessages("old", oldEntries)
			}
			cfg := readerConfig(reader, dir, t.TempDir())
			cfg.StartAt = "end"

			// Start and stop before anything new is written.
			r := startReceiver(t, cfg, &recordingConsumer{}, nil)
			r.stop()
			j.appendMessages("down", 2)

			c := &recordingConsumer{}
			r = startReceiver(t, cfg, c, nil)
			j.appendMessages("up", 2)
			c.waitCount(t, 4)
			r.stop()
			assert.Equal(t, append(messages("down", 0, 2), messages("up", 0, 2)...), c.bodies())
		})
	}
}

// TestRotation: journald renames the active file and starts a new one while
// the receiver follows the directory; entries of the new file arrive.
func TestRotation(t *testing.T) { bothReaders(t, testRotation) }

func testRotation(t *testing.T, reader string) {
	dir := t.TempDir()
	active := newTestJournal(t, dir, "system.journal")
	active.appendMessages("one", 5)
	cfg := readerConfig(reader, dir, t.TempDir())
	c := &recordingConsumer{}
	r := startReceiver(t, cfg, c, nil)
	c.waitCount(t, 5)

	require.NoError(t, os.Rename(active.path, filepath.Join(dir, "system@0123456789abcdef0123456789abcdef-0000000000000001-0006000000000000.journal")))
	next := newTestJournal(t, dir, "system.journal")
	next.n = active.n
	next.appendMessages("two", 6)
	c.waitCount(t, 11)
	r.stop()
	assert.Equal(t, append(messages("one", 0, 5), messages("two", 0, 6)...), c.bodies())
}

// TestVacuumedCursor: the cursor's entry was deleted with its file; the
// receiver goes on from the oldest remaining entry and counts it.
func TestVacuumedCursor(t *testing.T) { bothReaders(t, testVacuumedCursor) }

func testVacuumedCursor(t *testing.T, reader string) {
	dir := t.TempDir()
	old := newTestJournal(t, dir, "old.journal")
	old.appendMessages("old", 5)
	cfg := readerConfig(reader, dir, t.TempDir())
	c1 := &recordingConsumer{}
	r1 := startReceiver(t, cfg, c1, nil)
	c1.waitCount(t, 5)
	r1.stop()

	require.NoError(t, os.Remove(old.path)) // vacuumed
	fresh := newTestJournal(t, dir, "new.journal")
	fresh.n = old.n // later timestamps
	fresh.appendMessages("new", 4)

	c2 := &recordingConsumer{}
	r2 := startReceiver(t, cfg, c2, nil)
	c2.waitCount(t, 4)
	r2.stop()
	assert.Equal(t, messages("new", 0, 4), c2.bodies())
	assert.EqualValues(t, 1, r2.counter("otelcol_logx_journal_cursor_lost", "not_found"))
}

func TestInvalidCursorReadsFromOldest(t *testing.T) { bothReaders(t, testInvalidCursorReadsFromOldest) }

func testInvalidCursorReadsFromOldest(t *testing.T, reader string) {
	dir := t.TempDir()
	j := newTestJournal(t, dir, "a.journal")
	j.appendMessages("e", 3)
	cursorDir := t.TempDir()
	cfg := readerConfig(reader, dir, cursorDir)
	cfg.StartAt = "end"
	require.NoError(t, os.WriteFile(filepath.Join(cursorDir, "journal.cursor"), []byte("garbage\n"), 0o600))
	c := &recordingConsumer{}
	r := startReceiver(t, cfg, c, nil)
	c.waitCount(t, 3)
	r.stop()
	assert.Equal(t, messages("e", 0, 3), c.bodies())
	assert.EqualValues(t, 1, r.counter("otelcol_logx_journal_cursor_lost", "invalid"))
}

// TestJournalctlRestartsAfterBadOutput: a journalctl that writes garbage and
// exits is restarted, the parse error counted, nothing lost.
func TestJournalctlRestartsAfterBadOutput(t *testing.T) {
	dir := t.TempDir()
	j := newTestJournal(t, dir, "a.journal")
	j.appendMessages("e", 3)
	bin := t.TempDir()
	marker := filepath.Join(bin, "ran-once")
	script := filepath.Join(bin, "journalctl")
	require.NoError(t, os.WriteFile(script, []byte(`#!/bin/sh
if [ ! -e `+marker+` ]; then
  touch `+marker+`
  printf 'NOT A FIELD\n'
  exit 0
fi
exec journalctl "$@"
`), 0o700))
	cfg := testConfig(dir, t.TempDir())
	cfg.Reader = readerJournalctl
	cfg.JournalctlPath = script
	c := &recordingConsumer{}
	r := startReceiver(t, cfg, c, nil)
	c.waitCount(t, 3)
	r.stop()
	assert.Equal(t, messages("e", 0, 3), c.bodies())
	assert.EqualValues(t, 1, r.counter("otelcol_logx_journal_parse_errors", "bad_field_name"))
	assert.EqualValues(t, 1, r.counter("otelcol_logx_journal_journalctl_restarts", "parse_error"))
}

// memStorage is an in-memory storage extension shared across restarts, as
// file_storage's database would be.
type memStorage struct {
	extension.Extension
	data map[string][]byte
}

func newMemStorage() *memStorage { return &memStorage{data: map[string][]byte{}} }

func (m *memStorage) Start(context.Context, component.Host) error { return nil }
func (m *memStorage) Shutdown(context.Context) error              { return nil }

func (m *memStorage) GetClient(_ context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	return &memClient{m: m, prefix: kind.String() + "/" + id.String() + "/" + name + "/"}, nil
}

type memClient struct {
	storage.Client
	m      *memStorage
	prefix string
}

func (c *memClient) Get(_ context.Context, key string) ([]byte, error) {
	return c.m.data[c.prefix+key], nil
}

func (c *memClient) Set(_ context.Context, key string, v []byte) error {
	c.m.data[c.prefix+key] = append([]byte(nil), v...)
	return nil
}

func (c *memClient) Close(context.Context) error { return nil }

// TestShutdownWhilePipelineRefusesReadsAgain: entries held in the stage
// when the receiver stops and the pipeline will not take them are counted
// (reason shutdown, by service) and not lost: no cursor was stored past
// them, and the next start delivers every one, in order.
func TestShutdownWhilePipelineRefusesReadsAgain(t *testing.T) {
	bothReaders(t, testShutdownWhilePipelineRefusesReadsAgain)
}

func testShutdownWhilePipelineRefusesReadsAgain(t *testing.T, reader string) {
	dir := t.TempDir()
	j := newTestJournal(t, dir, "a.journal")
	j.appendMessages("a", 10, field{"SYSLOG_IDENTIFIER", []byte("svc-a")})
	j.appendMessages("b", 10, field{"SYSLOG_IDENTIFIER", []byte("svc-b")})
	cursorDir := t.TempDir()
	cfg := readerConfig(reader, dir, cursorDir)
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

// TestBacklogSaysItLags: batches that fill before their flush interval
// (a backlog being caught up) are said to the process (lagsignal), so that
// it gets threads at once; a batch the flush interval closed is not.
func TestBacklogSaysItLags(t *testing.T) {
	signals, stop := lagsignal.Listen()
	defer stop()
	dir := t.TempDir()
	j := newTestJournal(t, dir, "a.journal")
	j.appendMessages("few", 3)
	cfg := testConfig(dir, t.TempDir())
	cfg.Batch.MaxEntries = 5
	c := &recordingConsumer{}
	r := startReceiver(t, cfg, c, nil)
	c.waitCount(t, 3)
	assert.Empty(t, signals, "3 entries: one batch, closed by its flush interval")

	j.appendMessages("backlog", 5*lagsignal.Reads)
	select {
	case <-signals:
	case <-time.After(30 * time.Second):
		t.Fatal("a backlog of full batches was never said")
	}
	c.waitCount(t, 3+5*lagsignal.Reads)
	r.stop()
}
