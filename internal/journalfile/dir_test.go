package journalfile

import (
	"bytes"
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
	found, err := d.Seek(Cursor{SeqnumID: id, Seqnum: 6, HasSeqnum: true})
	require.NoError(t, err)
	require.True(t, found)
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

// TestSourcesChooseFilesAsJournalctl: a root's machine-id subdirectories
// are read (only the given machine's when Machine is set; never a
// namespace's), including one created after the start; Files reads those
// files only.
func TestSourcesChooseFilesAsJournalctl(t *testing.T) {
	a, _ := goldenCopy(t, "compact", 5, nil)
	b, _ := goldenCopy(t, "regular", 5, nil)
	root := t.TempDir()
	local := ID128{0xaa, 1}
	other := ID128{0xbb, 2}
	write := func(sub string, m []byte, seqnumID ID128, seqnums ...uint64) string {
		dir := filepath.Join(root, sub)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		p := filepath.Join(dir, "system.journal")
		require.NoError(t, os.WriteFile(p, withSeqnums(t, bytes.Clone(m), seqnumID, seqnums...), 0o644))
		return p
	}
	write(local.String(), a, ID128{1}, 1, 2, 3, 4, 5)
	write(other.String(), b, ID128{2}, 1, 2, 3, 4, 5)
	write(local.String()+".ns", b, ID128{3}, 1, 2, 3, 4, 5)

	all, err := OpenDir(root, Options{})
	require.NoError(t, err)
	defer all.Close()
	require.Len(t, all.Files(), 2, "both machines, not the namespace")

	mine, err := OpenSources(Sources{Roots: []string{root, filepath.Join(root, "missing")}, Machine: local, MissingOK: true}, Options{})
	require.NoError(t, err)
	defer mine.Close()
	require.Equal(t, []string{filepath.Join(root, local.String(), "system.journal")}, mine.Files())
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, dirSeqnums(t, mine))

	_, err = OpenSources(Sources{Roots: []string{filepath.Join(root, "missing")}}, Options{})
	require.Error(t, err, "a root that must exist")

	// A machine directory that appears later is picked up by Refresh.
	third := ID128{0xcc, 3}
	c := bytes.Clone(a)
	c[hdrFileID] ^= 0xff // another file, not a's copy under a new name
	write(third.String(), c, ID128{4}, 1, 2, 3, 4, 5)
	require.NoError(t, all.Refresh())
	require.Len(t, all.Files(), 3)

	only, err := OpenSources(Sources{Files: []string{filepath.Join(root, other.String(), "system.journal")}}, Options{})
	require.NoError(t, err)
	defer only.Close()
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, dirSeqnums(t, only))
	require.NoError(t, only.Refresh())
	require.Len(t, only.Files(), 1, "a named file stays, even read to its end")
}

// TestDirShowsACopiedEntryOnce: the same entry in two files (journald's
// flush from /run to /var copies entries under a new seqnum id) comes out
// once, as journalctl shows it.
func TestDirShowsACopiedEntryOnce(t *testing.T) {
	a, _ := goldenCopy(t, "compact", 5, nil)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.journal"), withSeqnums(t, bytes.Clone(a), ID128{1}, 1, 2, 3, 4, 5), 0o644))
	b := bytes.Clone(a)
	b[hdrFileID] ^= 0xff // another file holding the same entries
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.journal"), withSeqnums(t, b, ID128{2}, 1, 2, 3, 4, 5), 0o644))
	d, err := OpenDir(dir, Options{})
	require.NoError(t, err)
	defer d.Close()
	require.Len(t, d.Files(), 2)
	require.Len(t, dirSeqnums(t, d), 5)
}
