package journalfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

// goldenVariants are files systemd-journal-remote (systemd 252) wrote once
// (TestWriteGolden, build tag interop), with journalctl's export of each.
var goldenVariants = []struct {
	name    string
	compact bool
}{{"compact", true}, {"regular", false}}

func openGolden(t *testing.T, name string) (*File, []exportEntry) {
	t.Helper()
	p := gunzipTo(t, filepath.Join("testdata", name+".journal.gz"), t.TempDir())
	f, err := Open(p, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	x, err := os.Open(filepath.Join("testdata", name+".export"))
	require.NoError(t, err)
	defer x.Close()
	return f, parseExport(t, x)
}

func TestGoldenMatchesJournalctlExport(t *testing.T) {
	for _, v := range goldenVariants {
		t.Run(v.name, func(t *testing.T) {
			f, want := openGolden(t, v.name)
			h := f.Header()
			require.Equal(t, v.compact, h.Compact())
			require.Equal(t, StateOffline, h.State)
			require.EqualValues(t, len(want), h.NEntries)
			require.NotZero(t, compressedFields(t, f)[objCompressedZSTD])
			got := readAll(t, f)
			requireSameAsExport(t, got, want)
			// At the end it stays at the end.
			var e Entry
			require.ErrorIs(t, f.Next(&e), io.EOF)
		})
	}
}

func TestSeekByCursor(t *testing.T) {
	f, want := openGolden(t, "compact")
	for _, i := range []int{0, 5, len(want) - 1} {
		c, err := ParseCursor(want[i].get("__CURSOR"))
		require.NoError(t, err)
		found, err := f.Seek(c)
		require.NoError(t, err)
		require.True(t, found)
		requireSameAsExport(t, readAll(t, f), want[i+1:])
	}

	// A cursor from another file (seqnum id) falls back to realtime.
	c, err := ParseCursor(want[3].get("__CURSOR"))
	require.NoError(t, err)
	c.SeqnumID[0] ^= 1
	found, err := f.Seek(c)
	require.NoError(t, err)
	require.False(t, found)
	requireSameAsExport(t, readAll(t, f), want[4:])

	// Past the last entry: nothing, until more is appended.
	c.Realtime = 1 << 62
	_, err = f.Seek(c)
	require.NoError(t, err)
	require.Empty(t, readAll(t, f))

	// A seqnum that is not in the file (journald vacuumed it): the
	// entries after it.
	c, err = ParseCursor(want[0].get("__CURSOR"))
	require.NoError(t, err)
	c.Seqnum = 0
	found, err = f.Seek(c)
	require.NoError(t, err)
	require.False(t, found)
	require.Len(t, readAll(t, f), len(want))
}

func TestParseCursor(t *testing.T) {
	const s = "s=3d053767ee5046698aecbbb72b6f7c53;i=1b;b=0123456789abcdef0123456789abcdef;m=3e8;t=60a24181e4000;x=9c0f5b39b4de2c6e"
	c, err := ParseCursor(s)
	require.NoError(t, err)
	require.Equal(t, s, c.String())
	require.EqualValues(t, 0x1b, c.Seqnum)
	require.EqualValues(t, 0x60a24181e4000, c.Realtime)

	c, err = ParseCursor("t=10;q=unknown")
	require.NoError(t, err)
	require.False(t, c.HasSeqnum)
	require.True(t, c.HasRealtime)

	for _, bad := range []string{"", "s=00", "i=1", "s=3d053767ee5046698aecbbb72b6f7c53;i=zz", "garbage", "b=0123456789abcdef0123456789abcdef;m=1"} {
		_, err := ParseCursor(bad)
		require.Error(t, err, bad)
	}
}

// golden returns the bytes of a minimal copy of the first n entries of a
// golden file, and its journalctl export.
func goldenCopy(t *testing.T, name string, n int, data func([]byte) []byte) ([]byte, []exportEntry) {
	t.Helper()
	f, want := openGolden(t, name)
	return minimalCopyWith(t, f, n, data), want[:n]
}

func TestMinimalCopyReadsTheSame(t *testing.T) {
	for _, v := range goldenVariants {
		m, want := goldenCopy(t, v.name, 7, nil)
		f, err := openBytes(m, Options{})
		require.NoError(t, err)
		requireSameAsExport(t, readAll(t, f), want)
	}
}

// TestLZ4AndXZ: DATA objects compressed with LZ4 (journald's framing: the
// size, then one block) and XZ read like zstd ones. journal-remote 252
// writes zstd only, so the golden file's objects are recompressed.
func TestLZ4AndXZ(t *testing.T) {
	zd, err := zstd.NewReader(nil)
	require.NoError(t, err)
	defer zd.Close()
	for _, c := range []struct {
		name     string
		flag     uint8
		incompat uint32
		enc      func(t *testing.T, p []byte) []byte
	}{
		{"lz4", objCompressedLZ4, incompatLZ4, func(t *testing.T, p []byte) []byte {
			out := make([]byte, 8+lz4.CompressBlockBound(len(p)))
			binary.LittleEndian.PutUint64(out, uint64(len(p)))
			n, err := lz4.CompressBlock(p, out[8:], nil)
			require.NoError(t, err)
			require.NotZero(t, n)
			return out[:8+n]
		}},
		{"xz", objCompressedXZ, incompatXZ, func(t *testing.T, p []byte) []byte {
			var b bytes.Buffer
			w, err := xz.NewWriter(&b)
			require.NoError(t, err)
			_, err = w.Write(p)
			require.NoError(t, err)
			require.NoError(t, w.Close())
			return b.Bytes()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			recompressed := 0
			m, want := goldenCopy(t, "compact", 7, func(obj []byte) []byte {
				if obj[1]&objCompressedZSTD == 0 {
					return obj
				}
				plain, err := zd.DecodeAll(obj[dataPayloadCompact:], nil)
				require.NoError(t, err)
				out := append(obj[:dataPayloadCompact:dataPayloadCompact], c.enc(t, plain)...)
				out[1] = c.flag
				binary.LittleEndian.PutUint64(out[objSizeOffset:], uint64(len(out)))
				recompressed++
				return out
			})
			require.NotZero(t, recompressed)
			flags := binary.LittleEndian.Uint32(m[hdrIncompatibleFlags:])
			binary.LittleEndian.PutUint32(m[hdrIncompatibleFlags:], flags|c.incompat)
			f, err := openBytes(m, Options{})
			require.NoError(t, err)
			requireSameAsExport(t, readAll(t, f), want)
		})
	}
}

func TestMaxEntryBytes(t *testing.T) {
	m, want := goldenCopy(t, "compact", 7, nil)
	f, err := openBytes(m, Options{MaxEntryBytes: 1000})
	require.NoError(t, err)
	var e Entry
	var small, large int
	for {
		err := f.Next(&e)
		if err == io.EOF {
			break
		}
		var tl *EntryTooLargeError
		if errors.As(err, &tl) {
			large++
			continue // the reader is past it
		}
		require.NoError(t, err)
		small++
	}
	require.Equal(t, len(want), small+large)
	require.Equal(t, 4, large, "the 3600-byte text, the 3000-byte noise, 120 fields, the 2100-byte binary value")
}

func TestHeaderValidation(t *testing.T) {
	m, _ := goldenCopy(t, "compact", 2, nil)
	le := binary.LittleEndian
	for _, c := range []struct {
		name   string
		mutate func(b []byte) []byte
		check  func(t *testing.T, err error)
	}{
		{"short", func(b []byte) []byte { return b[:100] }, isCorrupt},
		{"signature", func(b []byte) []byte { b[0] = 'X'; return b }, isCorrupt},
		{"unknown incompatible flag", func(b []byte) []byte {
			le.PutUint32(b[hdrIncompatibleFlags:], le.Uint32(b[hdrIncompatibleFlags:])|1<<7)
			return b
		}, func(t *testing.T, err error) {
			var u *UnsupportedError
			require.ErrorAs(t, err, &u)
			require.EqualValues(t, 1<<7, u.Flags)
		}},
		{"state", func(b []byte) []byte { b[hdrState] = 9; return b }, isCorrupt},
		{"header size", func(b []byte) []byte { le.PutUint64(b[hdrHeaderSize:], 1<<40); return b }, isCorrupt},
		{"header size unaligned", func(b []byte) []byte { le.PutUint64(b[hdrHeaderSize:], 265); return b }, isCorrupt},
		{"arena", func(b []byte) []byte { le.PutUint64(b[hdrArenaSize:], 1<<62); return b }, isCorrupt},
		{"entries", func(b []byte) []byte { le.PutUint64(b[hdrNEntries:], 1<<40); return b }, isCorrupt},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := openBytes(c.mutate(bytes.Clone(m)), Options{})
			c.check(t, err)
		})
	}
}

func isCorrupt(t *testing.T, err error) {
	t.Helper()
	var c *CorruptError
	require.ErrorAs(t, err, &c)
}

// TestCorruptObjects: damage in objects is an error for the entry (or the
// chain), never a panic; after a bad entry the next ones still read.
func TestCorruptObjects(t *testing.T) {
	le := binary.LittleEndian
	m, want := goldenCopy(t, "compact", 4, nil)
	f, err := openBytes(bytes.Clone(m), Options{})
	require.NoError(t, err)
	arr := f.hdr.EntryArrayOffset
	entryOff := func(i int) uint64 { return uint64(le.Uint32(m[arr+arrayItems+4*uint64(i):])) }

	t.Run("entry offset out of bounds", func(t *testing.T) {
		b := bytes.Clone(m)
		le.PutUint32(b[arr+arrayItems+4:], uint32(len(b)+64))
		got := readSkipping(t, b)
		require.Equal(t, []uint64{1, 0, 3, 4}, got) // entry 2 is an error, then the reader goes on
	})
	t.Run("entry points at a data object", func(t *testing.T) {
		b := bytes.Clone(m)
		first := uint64(le.Uint32(b[entryOff(0)+entryItems:]))
		le.PutUint32(b[arr+arrayItems:], uint32(first))
		require.Equal(t, []uint64{0, 2, 3, 4}, readSkipping(t, b))
	})
	t.Run("data item out of bounds", func(t *testing.T) {
		b := bytes.Clone(m)
		le.PutUint32(b[entryOff(3)+entryItems:], 0xfffffff8)
		require.Equal(t, []uint64{1, 2, 3, 0}, readSkipping(t, b))
	})
	t.Run("data object size", func(t *testing.T) {
		b := bytes.Clone(m)
		d := uint64(le.Uint32(b[entryOff(0)+entryItems:]))
		le.PutUint64(b[d+objSizeOffset:], 1<<63)
		got := readSkipping(t, b)
		require.Equal(t, uint64(0), got[0])
	})
	t.Run("compressed payload garbage", func(t *testing.T) {
		b := bytes.Clone(m)
		n := 0
		for i := range 4 {
			eo := entryOff(i)
			size := le.Uint64(b[eo+objSizeOffset:])
			for p := eo + entryItems; p < eo+size; p += 4 {
				d := uint64(le.Uint32(b[p:]))
				if b[d+1]&objCompressedZSTD != 0 {
					copy(b[d+dataPayloadCompact+4:], "garbage!")
					n++
				}
			}
		}
		require.NotZero(t, n)
		got := readSkipping(t, b)
		require.Equal(t, uint64(0), got[2], "the entry with a zstd value")
	})
	t.Run("chain cycle", func(t *testing.T) {
		b := bytes.Clone(m)
		le.PutUint64(b[arr+arrayNext:], arr) // points at itself
		le.PutUint64(b[hdrNEntries:], 5)     // and claims one more entry than it holds
		f, err := openBytes(b, Options{})
		require.NoError(t, err)
		var e Entry
		for range 4 {
			require.NoError(t, f.Next(&e))
		}
		err = f.Next(&e)
		isCorrupt(t, err)
		require.Equal(t, err, f.Next(&e), "a broken chain stays broken")
	})
	t.Run("chain too short", func(t *testing.T) {
		b := bytes.Clone(m)
		le.PutUint64(b[hdrNEntries:], 6)
		f, err := openBytes(b, Options{})
		require.NoError(t, err)
		require.Len(t, collectUntilError(f), 4)
	})
	t.Run("truncated", func(t *testing.T) {
		for cut := len(m) - 8; cut > int(f.hdr.HeaderSize); cut -= 40 {
			b := bytes.Clone(m[:cut])
			le.PutUint64(b[hdrArenaSize:], uint64(cut)-f.hdr.HeaderSize)
			g, err := openBytes(b, Options{})
			if err != nil {
				isCorrupt(t, err)
				continue
			}
			require.Less(t, len(collectUntilError(g)), len(want))
		}
	})
}

// readSkipping reads every entry of b, stepping over bad ones: the seqnum
// of each, 0 for an error.
func readSkipping(t *testing.T, b []byte) []uint64 {
	t.Helper()
	f, err := openBytes(b, Options{})
	require.NoError(t, err)
	var out []uint64
	var e Entry
	for range 100 {
		err := f.Next(&e)
		if err == io.EOF {
			return out
		}
		if err != nil {
			var c *CorruptError
			require.ErrorAs(t, err, &c)
			out = append(out, 0)
			continue
		}
		out = append(out, e.Seqnum)
	}
	t.Fatal("no end")
	return nil
}

func collectUntilError(f *File) []uint64 {
	var out []uint64
	var e Entry
	for range 100 {
		if err := f.Next(&e); err != nil {
			return out
		}
		out = append(out, e.Seqnum)
	}
	return out
}

// TestDecompressLimits: sizes the format states are checked before
// anything is allocated or decoded.
func TestDecompressLimits(t *testing.T) {
	d := &decoders{maxOut: 1 << 20}
	defer d.close()
	var tl *EntryTooLargeError

	lz := binary.LittleEndian.AppendUint64(nil, 1<<40)
	_, err := d.decompress(objCompressedLZ4, append(lz, 0, 0, 0), nil, 1<<20)
	require.ErrorAs(t, err, &tl)

	enc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	frame := enc.EncodeAll(bytes.Repeat([]byte("x"), 5000), nil)
	require.NoError(t, enc.Close())
	_, err = d.decompress(objCompressedZSTD, frame, nil, 4999)
	require.ErrorAs(t, err, &tl)
	out, err := d.decompress(objCompressedZSTD, frame, []byte("K="), 5000)
	require.NoError(t, err)
	require.Equal(t, "K="+string(bytes.Repeat([]byte("x"), 5000)), string(out))

	var xb bytes.Buffer
	w, err := xz.NewWriter(&xb)
	require.NoError(t, err)
	_, err = w.Write(bytes.Repeat([]byte("y"), 5000))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	x := xb.Bytes()
	_, err = d.decompress(objCompressedXZ, x, nil, 4999)
	require.ErrorAs(t, err, &tl)
	// The block header's dictionary size: a hostile 4 GiB one is refused
	// before the decoder would allocate it.
	huge := bytes.Clone(x)
	hsize := (int(huge[12]) + 1) * 4
	props := bytes.LastIndexByte(huge[12:12+hsize-4], 0x01) + 12 + 1 // after the properties size
	huge[props] = 40
	_, err = d.decompress(objCompressedXZ, huge, nil, 1<<20)
	isCorrupt(t, err)

	_, err = d.decompress(objCompressedXZ|objCompressedLZ4, x, nil, 1<<20)
	isCorrupt(t, err)
}

// TestTruncatedUnderReader: a file cut short while mapped (the reader
// touches pages past its new end: SIGBUS) gives errors, not a crash.
func TestTruncatedUnderReader(t *testing.T) {
	p := gunzipTo(t, filepath.Join("testdata", "compact.journal.gz"), t.TempDir())
	f, err := Open(p, Options{})
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, os.Truncate(p, 4096))
	var e Entry
	err = f.Next(&e)
	require.ErrorContains(t, err, "fault")
	require.Error(t, f.Refresh(), "the header no longer fits the file")
}
