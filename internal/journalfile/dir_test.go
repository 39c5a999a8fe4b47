package journalfile

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// withSeqnums rewrites a minimal copy's seqnum id and entry seqnums, as if
// one journald had written both files (it numbers the entries of all its
// files from one counter).
func withSeqnums(t *testing.T, m []byte, id ID128, seqnums ...uint64) []byte {
	t.Helper()
	f, err := openBytes(m, Options{})
	require.NoError(t, err)
	require.EqualValues(t, len(seqnums), f.hdr.NEntries)
	copy(m[hdrSeqnumID:], id[:])
	for i, s := range seqnums {
		off, err := f.entryOffset(uint64(i))
		require.NoError(t, err)
		binary.LittleEndian.PutUint64(m[off+entrySeqnum:], s)
	}
	return m
}

// TestDirMergesBySeqnum: the entries of two files of one seqnum id come
// out in seqnum order, however they interleave; a cursor seeks in both.
func TestDirMergesBySeqnum(t *testing.T) {
	a, _ := goldenCopy(t, "compact", 5, nil)
	b, _ := goldenCopy(t, "regular", 5, nil)
	id := ID128{1, 2, 3}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "system.journal"), withSeqnums(t, a, id, 1, 3, 4, 8, 9), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "user-1000.journal"), withSeqnums(t, b, id, 2, 5, 6, 7, 10), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "not-a-journal.journal"), []byte("hello"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.txt"), []byte("hello"), 0o644))

	d, err := OpenDir(dir, Options{})
	require.NoError(t, err)
	defer d.Close()
	require.Len(t, d.FileErrors(), 1, "the file that is not a journal")
	require.Len(t, d.Files(), 2)
	require.Equal(t, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, dirSeqnums(t, d))

	var e Entry
	require.NoError(t, d.Seek(Cursor{SeqnumID: id, Seqnum: 6, HasSeqnum: true}))
	require.NoError(t, d.Next(&e))
	require.EqualValues(t, 7, e.Seqnum)
	require.Equal(t, []uint64{8, 9, 10}, dirSeqnums(t, d))

	// Refresh with nothing new: nothing read twice, nothing reopened.
	require.NoError(t, d.Refresh())
	require.Empty(t, dirSeqnums(t, d))
	require.Empty(t, d.FileErrors(), "a file that failed is retried only when its size changes")
}

func dirSeqnums(t *testing.T, d *Dir) []uint64 {
	t.Helper()
	var out []uint64
	var e Entry
	for range 1000 {
		err := d.Next(&e)
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, e.Seqnum)
	}
	t.Fatal("no end")
	return nil
}
