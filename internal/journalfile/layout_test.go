package journalfile

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// minimalCopyWith lays out the first n entries of a real file again, without
// hash tables and with one entry array: the same objects (DATA objects
// byte for byte, compression included) in a file of a few KB instead of
// megabytes of preallocated tables. Fuzz seeds and corruption tests start
// from it. The copy is only for this package's reader: without hash tables
// journalctl would not take it. data, if not nil, may replace each DATA
// object (header included) before it is written.
func minimalCopyWith(t testing.TB, src *File, n int, data func(obj []byte) []byte) []byte {
	t.Helper()
	le := binary.LittleEndian
	hs := src.hdr.HeaderSize
	out := append([]byte(nil), src.m[:hs]...)
	for _, off := range []int{104, 112, 120, 128} { // hash table offsets and sizes
		le.PutUint64(out[off:], 0)
	}
	put := func(obj []byte) uint64 {
		off := uint64(len(out))
		out = append(out, obj...)
		for len(out)%8 != 0 {
			out = append(out, 0)
		}
		return off
	}
	putItem := func(b []byte, v uint64) []byte {
		if src.itemSz == 4 {
			return le.AppendUint32(b, uint32(v))
		}
		return le.AppendUint64(b, v)
	}
	moved := map[uint64]uint64{}
	var entries []uint64
	var nObjects uint64
	stride := uint64(16)
	if src.itemSz == 4 {
		stride = 4
	}
	src.SeekHead()
	for i := 0; i < n; i++ {
		eoff, err := src.entryOffset(uint64(i))
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		eobj, err := src.object(eoff, objectEntry, entryItems)
		require.NoError(t, err)
		ne := append([]byte(nil), eobj...)
		items := (uint64(len(eobj)) - entryItems) / stride
		for k := uint64(0); k < items; k++ {
			p := entryItems + k*stride
			var doff uint64
			if stride == 4 {
				doff = uint64(le.Uint32(eobj[p:]))
			} else {
				doff = le.Uint64(eobj[p:])
			}
			noff, ok := moved[doff]
			if !ok {
				dobj, err := src.object(doff, objectData, src.dataSz)
				require.NoError(t, err)
				nd := append([]byte(nil), dobj...)
				for q := 24; q < int(src.dataSz); q++ { // links into tables and arrays: stale here
					nd[q] = 0
				}
				if data != nil {
					nd = data(nd)
				}
				noff = put(nd)
				moved[doff] = noff
				nObjects++
			}
			if stride == 4 {
				le.PutUint32(ne[p:], uint32(noff))
			} else {
				le.PutUint64(ne[p:], noff)
			}
		}
		entries = append(entries, put(ne))
		nObjects++
	}
	arr := make([]byte, objHeaderSize, arrayItems)
	arr[0] = objectEntryArray
	arr = le.AppendUint64(arr, 0)
	for _, e := range entries {
		arr = putItem(arr, e)
	}
	le.PutUint64(arr[objSizeOffset:], uint64(len(arr)))
	aoff := put(arr)
	nObjects++
	le.PutUint64(out[hdrArenaSize:], uint64(len(out))-hs)
	le.PutUint64(out[hdrTailObjectOffset:], aoff)
	le.PutUint64(out[hdrNObjects:], nObjects)
	le.PutUint64(out[hdrNEntries:], uint64(len(entries)))
	le.PutUint64(out[hdrEntryArrayOffset:], aoff)
	if hs >= 264 { // tail_entry_array_offset / _n_entries (systemd 252)
		le.PutUint32(out[256:], uint32(aoff))
		le.PutUint32(out[260:], uint32(len(entries)))
	}
	return out
}

// compressedFields counts the fields stored compressed, by flag, so that a
// test can check its file exercises decompression.
func compressedFields(t testing.TB, f *File) map[uint8]int {
	t.Helper()
	counts := map[uint8]int{}
	le := binary.LittleEndian
	stride := uint64(16)
	if f.itemSz == 4 {
		stride = 4
	}
	for i := uint64(0); i < f.hdr.NEntries; i++ {
		eoff, err := f.entryOffset(i)
		require.NoError(t, err)
		eobj, err := f.object(eoff, objectEntry, entryItems)
		require.NoError(t, err)
		for p := uint64(entryItems); p+stride <= uint64(len(eobj)); p += stride {
			var doff uint64
			if stride == 4 {
				doff = uint64(le.Uint32(eobj[p:]))
			} else {
				doff = le.Uint64(eobj[p:])
			}
			if fl := f.m[doff+1] & objCompressedMask; fl != 0 {
				counts[fl]++
			}
		}
	}
	return counts
}
