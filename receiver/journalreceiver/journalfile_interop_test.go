//go:build interop

// Tests with real journal files: systemd-journal-remote writes them and the
// receiver reads them through journalctl (go test -tags interop; make test).

package journalreceiver

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// journalRemote turns export-format input into real journal files
// (package systemd-journal-remote, installed by scripts/deps.sh).
const journalRemote = "/lib/systemd/systemd-journal-remote"

const testBootID = "0123456789abcdef0123456789abcdef"

// testJournal is a journal file written by systemd-journal-remote.
type testJournal struct {
	t    testing.TB
	path string
	n    int // entries written, for increasing timestamps
}

func newTestJournal(t testing.TB, dir, name string) *testJournal {
	return &testJournal{t: t, path: filepath.Join(dir, name)}
}

// field is an extra journal field of a test entry.
type field struct {
	name  string
	value []byte
}

// entry encodes one export-format entry with the fields journald would set,
// then extra; binary form for every value, as the format allows.
func (j *testJournal) entry(msg []byte, extra ...field) []byte {
	j.n++
	var b bytes.Buffer
	fmt.Fprintf(&b, "__REALTIME_TIMESTAMP=%d\n", 1_700_000_000_000_000+int64(j.n)*1000)
	fmt.Fprintf(&b, "__MONOTONIC_TIMESTAMP=%d\n", int64(j.n)*1000)
	fmt.Fprintf(&b, "_BOOT_ID=%s\n", testBootID)
	b.WriteString("_HOSTNAME=testhost\n")
	for _, f := range extra {
		b.Write(exportField(f.name, f.value, true))
	}
	b.Write(exportField("MESSAGE", msg, true))
	b.WriteByte('\n')
	return b.Bytes()
}

// append writes entries to the journal file (created if missing).
func (j *testJournal) append(entries ...[]byte) {
	j.t.Helper()
	cmd := exec.Command(journalRemote, "--output="+j.path, "--compress=no", "-")
	cmd.Stdin = bytes.NewReader(bytes.Join(entries, nil))
	out, err := cmd.CombinedOutput()
	require.NoError(j.t, err, "systemd-journal-remote: %s", out)
}

// appendMessages writes simple entries "prefix-0".."prefix-(n-1)".
func (j *testJournal) appendMessages(prefix string, n int, extra ...field) {
	entries := make([][]byte, n)
	for i := range entries {
		entries[i] = j.entry([]byte(fmt.Sprintf("%s-%d", prefix, i)), extra...)
	}
	j.append(entries...)
}

func (c *recordingConsumer) callSizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.sizes...)
}

func (c *recordingConsumer) records() []plog.LogRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]plog.LogRecord(nil), c.accepted...)
}

func (c *recordingConsumer) bodies() []string {
	var out []string
	for _, lr := range c.records() {
		out = append(out, lr.Body().AsString())
	}
	return out
}

// waitCount polls until the consumer accepted want records.
func (c *recordingConsumer) waitCount(t *testing.T, want int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(c.records()) >= want }, 30*time.Second, 10*time.Millisecond,
		"consumer has %d of %d records", len(c.records()), want)
}
