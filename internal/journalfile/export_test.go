package journalfile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// exportEntry is one entry of journalctl's export output: its fields in
// order.
type exportEntry [][2]string

func (x exportEntry) get(name string) string {
	for _, f := range x {
		if f[0] == name {
			return f[1]
		}
	}
	return ""
}

// parseExport reads the journal export format ("NAME=value\n", or
// "NAME\n" + le64 length + value + "\n" for any value; an empty line ends
// an entry). A test's own small parser: this package may not import the
// receiver's.
func parseExport(t testing.TB, r io.Reader) []exportEntry {
	t.Helper()
	br := bufio.NewReaderSize(r, 1<<16)
	var out []exportEntry
	var cur exportEntry
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			break
		}
		require.NoError(t, err)
		line = line[:len(line)-1]
		if len(line) == 0 {
			out = append(out, cur)
			cur = nil
			continue
		}
		if i := bytes.IndexByte(line, '='); i >= 0 {
			cur = append(cur, [2]string{string(line[:i]), string(line[i+1:])})
			continue
		}
		var n [8]byte
		_, err = io.ReadFull(br, n[:])
		require.NoError(t, err)
		v := make([]byte, binary.LittleEndian.Uint64(n[:])+1)
		_, err = io.ReadFull(br, v)
		require.NoError(t, err)
		require.Equal(t, byte('\n'), v[len(v)-1])
		cur = append(cur, [2]string{string(line), string(v[:len(v)-1])})
	}
	require.Empty(t, cur, "export output ends inside an entry")
	return out
}

// requireSameAsExport checks that the reader's entries equal journalctl's
// export of the same file, entry by entry and field by field, cursor
// included.
func requireSameAsExport(t *testing.T, got []Entry, want []exportEntry) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		g, w := &got[i], want[i]
		require.Equal(t, w.get("__CURSOR"), g.CursorString(), "entry %d cursor", i)
		require.Equal(t, w.get("__REALTIME_TIMESTAMP"), strconv.FormatUint(g.Realtime, 10), "entry %d", i)
		require.Equal(t, w.get("__MONOTONIC_TIMESTAMP"), strconv.FormatUint(g.Monotonic, 10), "entry %d", i)
		require.Equal(t, w.get("_BOOT_ID"), g.BootID.String(), "entry %d", i)
		var wantFields [][2]string
		for _, f := range w {
			switch f[0] {
			case "__CURSOR", "__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "_BOOT_ID", "__SEQNUM", "__SEQNUM_ID":
				continue
			}
			wantFields = append(wantFields, f)
		}
		var gotFields [][2]string
		for _, f := range g.Fields {
			name, value, ok := SplitField(f)
			require.True(t, ok, "entry %d field %q", i, f)
			if string(name) == "_BOOT_ID" { // journalctl prints it from the entry header only
				continue
			}
			gotFields = append(gotFields, [2]string{string(name), string(value)})
		}
		require.Equal(t, wantFields, gotFields, "entry %d fields", i)
	}
}

// readAll reads every entry of a file, copying them out of the mapping.
func readAll(t testing.TB, f *File) []Entry {
	t.Helper()
	var out []Entry
	var e Entry
	for {
		err := f.Next(&e)
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, cloneEntry(&e))
	}
}

func cloneEntry(e *Entry) Entry {
	c := *e
	c.Fields = make([][]byte, len(e.Fields))
	for i, f := range e.Fields {
		c.Fields[i] = bytes.Clone(f)
	}
	c.buf, c.refs = nil, nil
	return c
}

// gunzipTo unpacks a committed golden file (journal files are mostly
// preallocated zeros, which gzip makes small) into dir.
func gunzipTo(t testing.TB, gz, dir string) string {
	t.Helper()
	in, err := os.Open(gz)
	require.NoError(t, err)
	defer in.Close()
	zr, err := gzip.NewReader(in)
	require.NoError(t, err)
	p := filepath.Join(dir, filepath.Base(gz[:len(gz)-len(".gz")]))
	out, err := os.Create(p)
	require.NoError(t, err)
	_, err = io.Copy(out, zr)
	require.NoError(t, err)
	require.NoError(t, out.Close())
	return p
}
