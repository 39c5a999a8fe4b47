package journalfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Entry is one journal entry. Fields (and the slices in them) point into
// the file's mapping or into the Entry's own buffer: they are valid until
// the next call that reads into this Entry, or a Refresh or Close of the
// file. Copy what must live longer.
type Entry struct {
	SeqnumID  ID128  // of the file the entry is in
	Seqnum    uint64 // position in the writer's sequence, 1-based
	Realtime  uint64 // µs since the epoch (CLOCK_REALTIME)
	Monotonic uint64 // µs since boot (CLOCK_MONOTONIC of BootID)
	BootID    ID128
	XorHash   uint64 // xor of the fields' hashes, part of the cursor
	// Fields are "NAME=value" in the order the file lists them, values
	// decompressed; values may hold any bytes.
	Fields [][]byte

	buf  []byte     // decompressed values
	refs []fieldRef // where each field is, until buf stops growing
}

// fieldRef locates a field either in the mapping or in Entry.buf (whose
// backing array moves while it grows, so slices are made at the end).
type fieldRef struct {
	inBuf      bool
	start, end uint64
}

// EntryTooLargeError is an entry past Options.MaxEntryBytes or MaxFields.
type EntryTooLargeError struct {
	Seqnum uint64
	Detail string
}

func (e *EntryTooLargeError) Error() string {
	return fmt.Sprintf("journal entry %d too large: %s", e.Seqnum, e.Detail)
}

// SplitField splits "NAME=value" at the first '='.
func SplitField(field []byte) (name, value []byte, ok bool) {
	i := bytes.IndexByte(field, '=')
	if i < 0 {
		return nil, nil, false
	}
	return field[:i], field[i+1:], true
}

// readEntry reads the ENTRY object at off into e; its fields only if
// fields is set.
func (f *File) readEntry(off uint64, e *Entry, fields bool) error {
	obj, err := f.object(off, objectEntry, entryItems)
	if err != nil {
		return fmt.Errorf("entry: %w", err)
	}
	le := binary.LittleEndian
	e.SeqnumID = f.hdr.SeqnumID
	e.Seqnum = le.Uint64(obj[entrySeqnum:])
	e.Realtime = le.Uint64(obj[entryRealtime:])
	e.Monotonic = le.Uint64(obj[entryMonotonic:])
	copy(e.BootID[:], obj[entryBootID:entryBootID+16])
	e.XorHash = le.Uint64(obj[entryXorHash:])
	e.Fields = e.Fields[:0]
	if !fields {
		return nil
	}
	// Regular items carry the data object's hash next to its offset.
	stride := uint64(16)
	if f.itemSz == 4 {
		stride = 4
	}
	n := (uint64(len(obj)) - entryItems) / stride
	if n > uint64(f.opts.MaxFields) {
		return &EntryTooLargeError{Seqnum: e.Seqnum, Detail: fmt.Sprintf("%d fields, the limit is %d", n, f.opts.MaxFields)}
	}
	e.buf = e.buf[:0]
	e.refs = e.refs[:0]
	budget := uint64(f.opts.MaxEntryBytes)
	for i := uint64(0); i < n; i++ {
		var doff uint64
		if stride == 4 {
			doff = uint64(le.Uint32(obj[entryItems+4*i:]))
		} else {
			doff = le.Uint64(obj[entryItems+16*i:])
		}
		ref, size, err := f.dataPayload(doff, e, budget)
		if err != nil {
			if tl, ok := err.(*EntryTooLargeError); ok {
				tl.Seqnum = e.Seqnum
				return tl
			}
			return fmt.Errorf("entry %d field %d: %w", e.Seqnum, i, err)
		}
		budget -= size
		e.refs = append(e.refs, ref)
	}
	for _, r := range e.refs {
		if r.inBuf {
			e.Fields = append(e.Fields, e.buf[r.start:r.end:r.end])
		} else {
			e.Fields = append(e.Fields, f.m[r.start:r.end:r.end])
		}
	}
	return nil
}

// dataPayload locates the payload of the DATA object at off, decompressing
// it into e.buf if needed; budget is what the entry may still take.
func (f *File) dataPayload(off uint64, e *Entry, budget uint64) (fieldRef, uint64, error) {
	obj, err := f.object(off, objectData, f.dataSz)
	if err != nil {
		return fieldRef{}, 0, err
	}
	payload := obj[f.dataSz:]
	flags := obj[1] & objCompressedMask
	if flags == 0 {
		size := uint64(len(payload))
		if size > budget {
			return fieldRef{}, 0, &EntryTooLargeError{Detail: fmt.Sprintf("a field of %d bytes exceeds what is left of the limit", size)}
		}
		return fieldRef{start: off + f.dataSz, end: off + uint64(len(obj))}, size, nil
	}
	start := len(e.buf)
	e.buf, err = f.dec.decompress(flags, payload, e.buf, budget)
	if err != nil {
		e.buf = e.buf[:start]
		return fieldRef{}, 0, err
	}
	size := uint64(len(e.buf) - start)
	return fieldRef{inBuf: true, start: uint64(start), end: uint64(len(e.buf))}, size, nil
}
