//go:build interop

package journalfile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// journalRemote turns export-format input into real journal files
// (package systemd-journal-remote).
const journalRemote = "/lib/systemd/systemd-journal-remote"

const testBootID = "0123456789abcdef0123456789abcdef"

type kv struct {
	name  string
	value []byte
}

// entryExport encodes one entry for journal-remote: n sets the timestamps.
func entryExport(n int, fields ...kv) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "__REALTIME_TIMESTAMP=%d\n", 1_700_000_000_000_000+int64(n)*1000)
	fmt.Fprintf(&b, "__MONOTONIC_TIMESTAMP=%d\n", 1000+int64(n)*1000)
	fmt.Fprintf(&b, "_BOOT_ID=%s\n", testBootID)
	for _, f := range fields {
		b.Write(exportField(f.name, f.value))
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// writeJournal appends entries to the journal file at path (created if
// missing) with systemd-journal-remote; env adds SYSTEMD_JOURNAL_* knobs.
func writeJournal(t testing.TB, path string, env []string, entries ...[]byte) {
	t.Helper()
	require.NoError(t, writeJournalErr(path, env, entries...))
}

func writeJournalErr(path string, env []string, entries ...[]byte) error {
	cmd := exec.Command(journalRemote, "--output="+path, "-")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(bytes.Join(entries, nil))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("systemd-journal-remote: %w: %s", err, out)
	}
	return nil
}

// journalctlExport is journalctl's export of a file.
func journalctlExport(t testing.TB, path string, args ...string) []exportEntry {
	t.Helper()
	cmd := exec.Command("journalctl", append([]string{"--file=" + path, "--output=export"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "journalctl: %s", stderr.String())
	return parseExport(t, bytes.NewReader(out))
}

// journalHeader is journalctl --header's output, to check how a file was
// written (compact, compressed).
func journalHeader(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command("journalctl", "--header", "--file="+path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}

// variedEntries are entries that exercise the format: binary values,
// embedded newlines, values large enough to be compressed, values that do
// not compress, many fields, repeated names, empty values, values shared
// between entries.
func variedEntries(start int) [][]byte {
	var entries [][]byte
	n := start
	next := func(fields ...kv) {
		entries = append(entries, entryExport(n, fields...))
		n++
	}
	next(kv{"MESSAGE", []byte("hello")}, kv{"_HOSTNAME", []byte("testhost")})
	next(kv{"MESSAGE", []byte("line one\nline two\n")}, kv{"BINARY", []byte{0xff, 0xfe, 0, 1, 2, '\n', 0x80}})
	next(kv{"MESSAGE", []byte(strings.Repeat("compressible text ", 200))}, kv{"_HOSTNAME", []byte("testhost")})
	noise := make([]byte, 3000)
	x := uint32(2463534242)
	for i := range noise {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		noise[i] = byte(x)
	}
	next(kv{"MESSAGE", []byte("incompressible")}, kv{"NOISE", noise})
	var many []kv
	for i := range 120 {
		many = append(many, kv{fmt.Sprintf("FIELD_%03d", i), []byte(fmt.Sprintf("value %d", i))})
	}
	next(append(many, kv{"MESSAGE", []byte("many fields")})...)
	next(kv{"MESSAGE", []byte("repeated")}, kv{"TAG", []byte("a")}, kv{"TAG", []byte("b")}, kv{"EMPTY", nil})
	next(kv{"MESSAGE", []byte("utf8 ✓ ünïcödé")}, kv{"BIG_BINARY", bytes.Repeat([]byte{0, 0xff, '\n'}, 700)})
	for i := range 20 {
		next(kv{"MESSAGE", []byte(fmt.Sprintf("message %d", i))}, kv{"PRIORITY", []byte("6")}, kv{"_HOSTNAME", []byte("testhost")})
	}
	return entries
}

// writeGolden writes testdata/<variant>.journal.gz with journalctl's export
// of it next to it, and fuzz seeds cut down from them.
func writeGolden(t *testing.T) {
	for _, v := range []struct {
		name string
		env  []string
	}{
		{"compact", nil},
		{"regular", []string{"SYSTEMD_JOURNAL_COMPACT=0"}},
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, v.name+".journal")
		writeJournal(t, p, v.env, variedEntries(0)...)
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, err = zw.Write(raw)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		require.NoError(t, os.WriteFile(filepath.Join("testdata", v.name+".journal.gz"), gz.Bytes(), 0o644))
		out, err := exec.Command("journalctl", "--file="+p, "--output=export").Output()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join("testdata", v.name+".export"), out, 0o644))

		f, err := Open(p, Options{})
		require.NoError(t, err)
		seed := minimalCopyWith(t, f, 4, nil) // plain, binary, compressed, incompressible
		require.NoError(t, f.Close())
		fuzzDir := filepath.Join("testdata", "fuzz", "FuzzOpen")
		require.NoError(t, os.MkdirAll(fuzzDir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(fuzzDir, v.name),
			[]byte("go test fuzz v1\n[]byte("+strconv.Quote(string(seed))+")\n"), 0o644))
	}
}

// exportField encodes a field for systemd-journal-remote's input: the
// binary form when the value is not printable text on one line.
func exportField(name string, value []byte) []byte {
	var b bytes.Buffer
	if utf8.Valid(value) && !bytes.ContainsAny(value, "\n\x00\x01\x02\x7f") {
		fmt.Fprintf(&b, "%s=%s\n", name, value)
		return b.Bytes()
	}
	b.WriteString(name + "\n")
	_ = binary.Write(&b, binary.LittleEndian, uint64(len(value)))
	b.Write(value)
	b.WriteByte('\n')
	return b.Bytes()
}
