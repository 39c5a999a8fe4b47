//go:build interop

package journalreceiver

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// appendCompressed writes entries as journald does by default: values
// over its threshold compressed (zstd on systemd 252).
func (j *testJournal) appendCompressed(entries ...[]byte) {
	j.t.Helper()
	cmd := exec.Command(journalRemote, "--output="+j.path, "--compress=yes", "-")
	cmd.Stdin = bytes.NewReader(bytes.Join(entries, nil))
	out, err := cmd.CombinedOutput()
	require.NoError(j.t, err, "systemd-journal-remote: %s", out)
}

// readWith reads the whole journal in dir with reader and set's options,
// from the beginning, until the entry "sentinel" (the newest) arrives.
func readWith(t *testing.T, reader string, dir string, set func(*Config)) []plog.LogRecord {
	t.Helper()
	cfg := readerConfig(reader, dir, t.TempDir())
	set(cfg)
	c := &recordingConsumer{}
	r := startReceiver(t, cfg, c, nil)
	require.Eventually(t, func() bool {
		recs := c.records()
		return len(recs) > 0 && recs[len(recs)-1].Body().AsString() == "sentinel"
	}, 30*time.Second, 10*time.Millisecond)
	r.stop()
	return c.records()
}

// comparable is a record without its observed time (the time it was read).
func comparable(recs []plog.LogRecord) []map[string]any {
	var out []map[string]any
	for _, lr := range recs {
		out = append(out, map[string]any{
			"body": lr.Body().AsRaw(), "time": lr.Timestamp(), "severity": lr.SeverityNumber(),
			"severity_text": lr.SeverityText(), "attributes": lr.Attributes().AsRaw(),
		})
	}
	return out
}

// TestReadersDeliverTheSame: over journal files written by
// systemd-journal-remote (plain and compressed values, binary and invalid
// UTF-8 values, repeated fields, a value over max_entry_bytes, files in
// the directory and in a machine-id subdirectory), both readers deliver
// the same records, cursors included, with each filter journalctl offers.
func TestReadersDeliverTheSame(t *testing.T) {
	dir := t.TempDir()
	a := newTestJournal(t, dir, "system.journal")
	sub := filepath.Join(dir, "0123456789abcdef0123456789abcdef")
	require.NoError(t, os.Mkdir(sub, 0o755))
	b := newTestJournal(t, sub, "system.journal")
	b.n = 1000 // later than a's
	unit := func(u string) field { return field{"_SYSTEMD_UNIT", []byte(u)} }
	prio := func(p string) field { return field{"PRIORITY", []byte(p)} }
	f := func(n, v string) field { return field{n, []byte(v)} }
	var plain, packed [][]byte
	for i := range 40 {
		u := fmt.Sprintf("svc%d.service", i%4)
		plain = append(plain, a.entry([]byte(fmt.Sprintf("plain-%d", i)), unit(u), prio(fmt.Sprint(i%8)),
			f("SYSLOG_IDENTIFIER", fmt.Sprintf("svc%d", i%4)), f("TAG", "x"), f("TAG", "y"), f("BLOB", "\xff\x00b")))
	}
	// What journalctl --unit reads besides the unit's own entries.
	plain = append(plain,
		a.entry([]byte("coredump"), f("MESSAGE_ID", coredumpMessageID), f("_UID", "0"), f("COREDUMP_UNIT", "svc1.service")),
		a.entry([]byte("pid1"), f("_PID", "1"), f("UNIT", "svc1.service")),
		a.entry([]byte("object"), f("_UID", "0"), f("OBJECT_SYSTEMD_UNIT", "svc1.service")),
		a.entry([]byte("not-root-object"), f("_UID", "1000"), f("OBJECT_SYSTEMD_UNIT", "svc1.service")),
		a.entry([]byte("in-slice"), unit("x.service"), f("_SYSTEMD_SLICE", "app.slice")),
		a.entry(bytes.Repeat([]byte("long "), 1000)), // 5000 bytes, over max_entry_bytes below
	)
	a.append(plain...)
	for i := range 20 {
		packed = append(packed, b.entry(bytes.Repeat([]byte(fmt.Sprintf("compressed-%d ", i)), 200), unit("svc2.service"), prio("4"),
			f("BIG", strings.Repeat("z", 5000))))
	}
	b.appendCompressed(packed...)
	sentinel := newTestJournal(t, dir, "sentinel.journal")
	sentinel.n = 5000
	sentinel.append(sentinel.entry([]byte("sentinel"), unit("svc1.service"), prio("0"), f("SYSLOG_IDENTIFIER", "svc1"), f("_COMM", "x")))

	for name, set := range map[string]func(*Config){
		"all":         func(c *Config) { c.MaxEntryBytes = 4096 },
		"cursor":      func(c *Config) { c.Fields.Include = []string{"__CURSOR", "MESSAGE"} },
		"units":       func(c *Config) { c.Units = []string{"svc1", "app.slice"} },
		"identifiers": func(c *Config) { c.Identifiers = []string{"svc1", "svc3"} },
		"priority":    func(c *Config) { c.Priority = "err" },
		"matches":     func(c *Config) { c.Matches = []string{"_SYSTEMD_UNIT=svc2.service", "PRIORITY=4", "+", "_COMM=x"} },
		"all the groups": func(c *Config) {
			c.Units = []string{"svc1.service"}
			c.Priority = "3"
			c.Matches = []string{"PRIORITY=1", "+", "_COMM=x"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			viaJournalctl := readWith(t, readerJournalctl, dir, set)
			direct := readWith(t, readerDirect, dir, set)
			require.Greater(t, len(direct), 1)
			require.Equal(t, comparable(viaJournalctl), comparable(direct))
		})
	}
}

// TestCursorResumesAcrossReaders: a cursor stored by one reader resumes
// in the other, with nothing lost or repeated, either way.
func TestCursorResumesAcrossReaders(t *testing.T) {
	dir, cursorDir := t.TempDir(), t.TempDir()
	j := newTestJournal(t, dir, "system.journal")
	var got []string
	for round, reader := range []string{readerJournalctl, readerDirect, readerJournalctl, readerDirect} {
		j.appendMessages(fmt.Sprintf("r%d", round), 3+round)
		c := &recordingConsumer{}
		r := startReceiver(t, readerConfig(reader, dir, cursorDir), c, nil)
		c.waitCount(t, 3+round)
		r.stop()
		require.Equal(t, messages(fmt.Sprintf("r%d", round), 0, 3+round), c.bodies(), "round %d with %s", round, reader)
		assert.Zero(t, r.counter("otelcol_logx_journal_cursor_lost", ""))
		got = append(got, c.bodies()...)
	}
	assert.Len(t, got, 3+4+5+6)
}

// TestDirectFollowsRotationAndVacuum: while the direct reader follows,
// the active file is archived under a new name and a new one started, and
// the archived file is deleted (vacuumed) once read; every entry arrives
// once, in order, and a restart resumes after the last one.
func TestDirectFollowsRotationAndVacuum(t *testing.T) {
	dir, cursorDir := t.TempDir(), t.TempDir()
	active := newTestJournal(t, dir, "system.journal")
	active.appendMessages("one", 5)
	cfg := readerConfig(readerDirect, dir, cursorDir)
	c := &recordingConsumer{}
	r := startReceiver(t, cfg, c, nil)
	c.waitCount(t, 5)

	archived := filepath.Join(dir, "system@0123456789abcdef0123456789abcdef-0000000000000001-0006000000000000.journal")
	require.NoError(t, os.Rename(active.path, archived))
	next := newTestJournal(t, dir, "system.journal")
	next.n = active.n
	next.appendMessages("two", 6)
	c.waitCount(t, 11)
	require.NoError(t, os.Remove(archived))
	next.appendMessages("three", 4)
	c.waitCount(t, 15)
	r.stop()
	want := append(append(messages("one", 0, 5), messages("two", 0, 6)...), messages("three", 0, 4)...)
	assert.Equal(t, want, c.bodies())

	next.appendMessages("four", 2)
	c2 := &recordingConsumer{}
	r2 := startReceiver(t, cfg, c2, nil)
	c2.waitCount(t, 2)
	r2.stop()
	assert.Equal(t, messages("four", 0, 2), c2.bodies())
	assert.Zero(t, r2.counter("otelcol_logx_journal_cursor_lost", ""))
}
