//go:build interop

package journalreceiver

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appendAt writes entries "prefix-0".."prefix-(n-1)" whose journal time is
// at: start_at: overlap compares it with the clock. Callers keep the times
// of one file increasing, as journald does (journalctl --since bisects by
// time).
func (j *testJournal) appendAt(at time.Time, prefix string, n int) {
	entries := make([][]byte, n)
	for i := range entries {
		j.n++
		var b bytes.Buffer
		fmt.Fprintf(&b, "__REALTIME_TIMESTAMP=%d\n", at.UnixMicro()+int64(i))
		fmt.Fprintf(&b, "__MONOTONIC_TIMESTAMP=%d\n", int64(j.n)*1000)
		fmt.Fprintf(&b, "_BOOT_ID=%s\n", testBootID)
		b.WriteString("_HOSTNAME=testhost\n")
		b.Write(exportField("MESSAGE", []byte(fmt.Sprintf("%s-%d", prefix, i)), false))
		b.WriteByte('\n')
		entries[i] = b.Bytes()
	}
	j.append(entries...)
}

// TestStartAtOverlap: on a first start, entries older than the overlap are
// skipped, those within it are read, and new ones follow.
func TestStartAtOverlap(t *testing.T) { bothReaders(t, testStartAtOverlap) }

func testStartAtOverlap(t *testing.T, reader string) {
	dir := t.TempDir()
	j := newTestJournal(t, dir, "system.journal")
	now := time.Now()
	j.appendAt(now.Add(-time.Hour), "old", 3)
	j.appendAt(now.Add(-2*time.Minute), "gap", 2)

	c := &recordingConsumer{}
	r := startReceiver(t, overlapReaderConfig(reader, dir, t.TempDir(), 5*time.Minute), c, nil)
	c.waitCount(t, 2)
	j.appendAt(time.Now(), "new", 2)
	c.waitCount(t, 4)
	r.stop()
	// Journal order is time order: had the old entries been read, they
	// would come first.
	assert.Equal(t, append(messages("gap", 0, 2), messages("new", 0, 2)...), c.bodies())
}

// TestStartAtOverlapStoredCursorWins: with a cursor stored, the receiver
// resumes right after it, older than the overlap or not.
func TestStartAtOverlapStoredCursorWins(t *testing.T) {
	bothReaders(t, testStartAtOverlapStoredCursorWins)
}

func testStartAtOverlapStoredCursorWins(t *testing.T, reader string) {
	dir, cursorDir := t.TempDir(), t.TempDir()
	j := newTestJournal(t, dir, "system.journal")
	now := time.Now()
	j.appendAt(now.Add(-time.Hour), "old", 3)

	first := readerConfig(reader, dir, cursorDir) // start_at: beginning
	c1 := &recordingConsumer{}
	r1 := startReceiver(t, first, c1, nil)
	c1.waitCount(t, 3)
	r1.stop()

	// Written while the receiver was down: one span older than the
	// overlap, one within it.
	j.appendAt(now.Add(-50*time.Minute), "late", 2)
	j.appendAt(now.Add(-time.Minute), "recent", 2)
	c2 := &recordingConsumer{}
	r2 := startReceiver(t, overlapReaderConfig(reader, dir, cursorDir, 5*time.Minute), c2, nil)
	c2.waitCount(t, 4)
	r2.stop()
	assert.Equal(t, append(messages("late", 0, 2), messages("recent", 0, 2)...), c2.bodies(),
		"everything after the cursor, none of what it had delivered")
}

// TestStartAtOverlapRestartBeforeDelivery: the start point of the first
// start is stored, so a restart before anything was delivered reads from
// the same point, not from overlap before the later start.
func TestStartAtOverlapRestartBeforeDelivery(t *testing.T) {
	bothReaders(t, testStartAtOverlapRestartBeforeDelivery)
}

func testStartAtOverlapRestartBeforeDelivery(t *testing.T, reader string) {
	dir, cursorDir := t.TempDir(), t.TempDir()
	j := newTestJournal(t, dir, "system.journal")
	j.appendAt(time.Now().Add(-time.Hour), "old", 1)
	cfg := overlapReaderConfig(reader, dir, cursorDir, 5*time.Minute)

	r1 := startReceiver(t, cfg, &recordingConsumer{}, nil)
	r1.stop()
	stored, err := os.ReadFile(filepath.Join(cursorDir, "journal.cursor"))
	require.NoError(t, err)
	us, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(string(stored)), cursorSincePrefix), 10, 64)
	require.NoError(t, err, "stored %q", stored)
	since := time.UnixMicro(us)
	require.WithinDuration(t, time.Now().Add(-5*time.Minute), since, 10*time.Second)

	// Just after the stored start point: a start point computed anew at
	// the second start would lie after it.
	j.appendAt(since.Add(time.Millisecond), "edge", 1)
	require.Eventually(t, func() bool { return time.Since(since) > 5*time.Minute+10*time.Millisecond }, 5*time.Second, time.Millisecond)
	c := &recordingConsumer{}
	r2 := startReceiver(t, cfg, c, nil)
	c.waitCount(t, 1)
	j.appendAt(time.Now(), "new", 1)
	c.waitCount(t, 2)
	r2.stop()
	assert.Equal(t, []string{"edge-0", "new-0"}, c.bodies())
	assert.Zero(t, r2.counter("otelcol_logx_journal_cursor_lost", ""))
}

// TestStartAtOverlapBadStoredPoint: a stored start point that does not
// parse is counted as an invalid cursor and replaced by overlap before now.
func TestStartAtOverlapBadStoredPoint(t *testing.T) { bothReaders(t, testStartAtOverlapBadStoredPoint) }

func testStartAtOverlapBadStoredPoint(t *testing.T, reader string) {
	dir, cursorDir := t.TempDir(), t.TempDir()
	j := newTestJournal(t, dir, "system.journal")
	now := time.Now()
	j.appendAt(now.Add(-time.Hour), "old", 2)
	j.appendAt(now.Add(-time.Minute), "recent", 2)
	require.NoError(t, os.WriteFile(filepath.Join(cursorDir, "journal.cursor"), []byte(cursorSincePrefix+"garbage\n"), 0o600))

	c := &recordingConsumer{}
	r := startReceiver(t, overlapReaderConfig(reader, dir, cursorDir, 5*time.Minute), c, nil)
	c.waitCount(t, 2)
	assert.Equal(t, int64(1), r.counter("otelcol_logx_journal_cursor_lost", "invalid"))
	r.stop()
	assert.Equal(t, messages("recent", 0, 2), c.bodies())
}

// overlapReaderConfig is overlapConfig with the given reader.
func overlapReaderConfig(reader, dir, cursorDir string, overlap time.Duration) *Config {
	cfg := overlapConfig(dir, cursorDir, overlap)
	cfg.Reader = reader
	return cfg
}
