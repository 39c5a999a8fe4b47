package journalfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"

	"golang.org/x/sys/unix"
)

// DefaultMaxEntryBytes bounds the fields of one entry (after decompression)
// when Options.MaxEntryBytes is zero.
const DefaultMaxEntryBytes = 64 << 20

// DefaultMaxFields bounds the fields of one entry when Options.MaxFields is
// zero. journald itself refuses entries of more than 1024 fields; the margin
// is for other writers.
const DefaultMaxFields = 1 << 14

// Options bound what one entry may cost. The zero value uses the defaults.
type Options struct {
	// MaxEntryBytes: an entry whose fields add up to more (after
	// decompression) is an error, so a hostile compressed object cannot make
	// the reader allocate without bound.
	MaxEntryBytes int
	// MaxFields: an entry with more fields is an error.
	MaxFields int
}

func (o Options) withDefaults() Options {
	if o.MaxEntryBytes <= 0 {
		o.MaxEntryBytes = DefaultMaxEntryBytes
	}
	if o.MaxFields <= 0 {
		o.MaxFields = DefaultMaxFields
	}
	return o
}

// arrayRef is one ENTRY_ARRAY object of the file's entry array chain: the
// chain's items, in order, are the offsets of all entries.
type arrayRef struct {
	off   uint64 // of the object
	n     uint64 // items it has room for
	first uint64 // index (in the file's entry order) of its first item
}

// File reads one journal file. It is not safe for concurrent use. Entries
// are read in the file's order (by seqnum); Refresh notices what a writer
// appended since.
type File struct {
	path   string
	f      *os.File
	m      []byte // read-only shared mapping of the whole file
	mapped bool   // m is a mapping (not a test's or fuzzer's bytes)
	hdr    Header
	opts   Options
	itemSz uint64 // 4 (compact) or 8: entry array items and entry items' offsets
	dataSz uint64 // where a DATA object's payload starts

	chain    []arrayRef
	chainCap uint64 // items the chain has room for
	arr      int    // chain element of the last lookup: iteration walks it forward
	pos      uint64 // index of the entry Next returns
	err      error  // sticky: the chain itself is broken

	dec *decoders // shared by the files of a Dir
}

// Open maps a journal file read-only and validates its header.
func Open(path string, opts Options) (_ *File, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer catchFault(&err)
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	f := &File{path: path, f: osf, opts: opts, dec: &decoders{maxOut: uint64(opts.MaxEntryBytes)}}
	if err := f.sync(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Path is the name the file was opened with.
func (f *File) Path() string { return f.path }

// Header is the header as of Open or the last Refresh.
func (f *File) Header() Header { return f.hdr }

// Close unmaps the file: entries read from it are invalid afterwards.
func (f *File) Close() error {
	var err error
	if f.m != nil && f.mapped {
		err = unix.Munmap(f.m)
	}
	f.m = nil
	if f.f != nil {
		err = errors.Join(err, f.f.Close())
		f.f = nil
	}
	return err
}

// remap maps the file anew when it grew: a writer extends the file before
// it writes objects past the old end.
func (f *File) remap() error {
	st, err := f.f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size == int64(len(f.m)) && f.m != nil {
		return nil
	}
	if size < minHeaderSize {
		return corruptf("file is %d bytes, shorter than a journal header (%d)", size, minHeaderSize)
	}
	if int64(int(size)) != size {
		return corruptf("file of %d bytes cannot be mapped", size)
	}
	m, err := unix.Mmap(int(f.f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	if f.m != nil && f.mapped {
		_ = unix.Munmap(f.m)
	}
	f.m, f.mapped = m, true
	return nil
}

// readHeader takes the header from the mapping; size is the file's size,
// which may be past the mapping's end (see sync).
func (f *File) readHeader(size uint64) error {
	h, err := parseHeader(f.m, max(size, uint64(len(f.m))))
	if err != nil {
		return err
	}
	if f.hdr.HeaderSize != 0 && (h.FileID != f.hdr.FileID || h.IncompatibleFlags != f.hdr.IncompatibleFlags ||
		h.EntryArrayOffset != f.hdr.EntryArrayOffset && f.hdr.EntryArrayOffset != 0 || h.NEntries < f.hdr.NEntries) {
		// A writer only appends: anything else is a different file under
		// the same name, or a broken one.
		return corruptf("header changed under the reader (file id, flags, or fewer entries)")
	}
	f.hdr = h
	f.itemSz, f.dataSz = 8, dataPayloadRegular
	if h.Compact() {
		f.itemSz, f.dataSz = 4, dataPayloadCompact
	}
	return nil
}

// Refresh re-reads the header (and maps the file anew if it grew) so that
// Next returns the entries a writer appended since. It is cheap when
// nothing changed: a stat and a header read. Entries returned before are
// invalid afterwards.
func (f *File) Refresh() (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer catchFault(&err)
	if f.err != nil {
		return f.err
	}
	if f.f == nil {
		return f.readHeader(uint64(len(f.m)))
	}
	return f.sync()
}

// sync maps the file and reads its header in the order that makes every
// entry the header counts readable. A writer grows the file before it
// writes objects past the old end, and counts an entry only once it is
// written: so the header is read after the file is mapped, and the file
// is mapped again if it grew meanwhile.
func (f *File) sync() error {
	if err := f.remap(); err != nil {
		return err
	}
	st, err := f.f.Stat()
	if err != nil {
		return err
	}
	// The arena may already reach past the first mapping: check it
	// against the size now.
	if err := f.readHeader(uint64(st.Size())); err != nil {
		return err
	}
	return f.remap()
}

// openBytes reads a journal file held in memory: for fuzzing, where a
// file per input would mostly measure the file system.
func openBytes(m []byte, opts Options) (*File, error) {
	opts = opts.withDefaults()
	f := &File{path: "(memory)", m: m, opts: opts, dec: &decoders{maxOut: uint64(opts.MaxEntryBytes)}}
	if err := f.readHeader(uint64(len(m))); err != nil {
		return nil, err
	}
	return f, nil
}

// catchFault turns a fault reading the mapping (the file was truncated
// under it: SIGBUS, made a panic by debug.SetPanicOnFault) into an error
// instead of a crash. Only such faults, which carry their address: any
// other panic is a bug and stays a panic (fuzzing relies on that).
func catchFault(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if fault, ok := r.(interface{ Addr() uintptr }); ok {
		*err = fmt.Errorf("reading journal file mapping: fault at %#x (file truncated?)", fault.Addr())
		return
	}
	panic(r)
}

// le64 reads a little-endian uint64 at off, which the caller bounds-checked.
func (f *File) le64(off uint64) uint64 { return binary.LittleEndian.Uint64(f.m[off:]) }

// object returns the object at off, checked to lie within the file's arena,
// to be of type typ and at least minSize bytes long.
func (f *File) object(off uint64, typ uint8, minSize uint64) ([]byte, error) {
	end := uint64(len(f.m))
	if off < f.hdr.HeaderSize || off%8 != 0 || off > end-objHeaderSize {
		return nil, corruptf("object offset %#x is out of bounds", off)
	}
	if f.m[off] != typ {
		return nil, corruptf("object at %#x has type %d, expected %d", off, f.m[off], typ)
	}
	size := f.le64(off + objSizeOffset)
	if size < minSize || size > end-off {
		return nil, corruptf("object at %#x has invalid size %d", off, size)
	}
	return f.m[off : off+size : off+size], nil
}

// item reads the i-th offset of an items array in obj starting at start.
func (f *File) item(obj []byte, start, i uint64) uint64 {
	if f.itemSz == 4 {
		return uint64(binary.LittleEndian.Uint32(obj[start+4*i:]))
	}
	return binary.LittleEndian.Uint64(obj[start+8*i:])
}

// extendChain walks the entry array chain until it has room for need
// entries. Offsets must strictly increase along the chain (a writer appends
// each new array after the previous one), which bounds the walk and rules
// out cycles.
func (f *File) extendChain(need uint64) error {
	if f.chainCap >= need {
		return nil
	}
	var next uint64
	if len(f.chain) == 0 {
		next = f.hdr.EntryArrayOffset
	} else {
		last := f.chain[len(f.chain)-1]
		next = f.le64(last.off + arrayNext) // bounds-checked when it was added
	}
	for f.chainCap < need && next != 0 {
		if len(f.chain) > 0 && next <= f.chain[len(f.chain)-1].off {
			return corruptf("entry array chain goes back from %#x to %#x", f.chain[len(f.chain)-1].off, next)
		}
		obj, err := f.object(next, objectEntryArray, arrayItems+f.itemSz)
		if err != nil {
			return fmt.Errorf("entry array chain: %w", err)
		}
		n := (uint64(len(obj)) - arrayItems) / f.itemSz
		f.chain = append(f.chain, arrayRef{off: next, n: n, first: f.chainCap})
		f.chainCap += n
		next = binary.LittleEndian.Uint64(obj[arrayNext:])
	}
	if f.chainCap < need {
		return corruptf("entry array chain has room for %d entries, header says %d", f.chainCap, need)
	}
	return nil
}

// entryOffset is the offset of the i-th entry (i < n_entries).
func (f *File) entryOffset(i uint64) (uint64, error) {
	if err := f.extendChain(i + 1); err != nil {
		return 0, err
	}
	a := f.chain[f.arr]
	if i < a.first || i >= a.first+a.n {
		if f.arr+1 < len(f.chain) && i >= f.chain[f.arr+1].first && i < f.chain[f.arr+1].first+f.chain[f.arr+1].n {
			f.arr++
		} else {
			f.arr = sort.Search(len(f.chain), func(k int) bool { return f.chain[k].first+f.chain[k].n > i })
		}
		a = f.chain[f.arr]
	}
	off := f.item(f.m[a.off:], arrayItems, i-a.first)
	if off == 0 {
		return 0, corruptf("entry array at %#x has no item %d", a.off, i-a.first)
	}
	return off, nil
}

// Next reads the next entry into e. At the end of the file it returns
// io.EOF; Refresh then picks up appended entries. An error about one entry
// (*CorruptError, *EntryTooLargeError) leaves the position after it, so the
// caller may go on; an error in the entry array chain stays.
func (f *File) Next(e *Entry) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer catchFault(&err)
	if f.err != nil {
		return f.err
	}
	if f.pos >= f.hdr.NEntries {
		return io.EOF
	}
	off, err := f.entryOffset(f.pos)
	if err != nil {
		f.err = err
		return err
	}
	f.pos++
	return f.readEntry(off, e, true)
}

// SeekHead makes Next start at the first entry.
func (f *File) SeekHead() { f.pos = 0 }

// SeekTail makes Next return only entries appended after this call (and a
// Refresh).
func (f *File) SeekTail() { f.pos = f.hdr.NEntries }

// Remaining is the number of entries Next has not returned yet, as of the
// last Refresh.
func (f *File) Remaining() uint64 { return f.hdr.NEntries - min(f.pos, f.hdr.NEntries) }

// Seek positions the reader so that Next returns the first entry after c:
// by seqnum when c comes from this file's seqnum id, else by realtime. It
// reports whether c's entry itself is in the file (same seqnum id and
// seqnum).
func (f *File) Seek(c Cursor) (found bool, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer catchFault(&err)
	if f.err != nil {
		return false, f.err
	}
	bySeqnum := c.HasSeqnum && c.SeqnumID == f.hdr.SeqnumID
	if !bySeqnum && !c.HasRealtime {
		return false, fmt.Errorf("cursor %q has neither this file's seqnum id nor a realtime timestamp", c.String())
	}
	var searchErr error
	var e Entry
	n := f.hdr.NEntries
	// Entries are in seqnum order, so "after c" is a prefix boundary.
	i := sort.Search(int(n), func(k int) bool {
		if searchErr != nil {
			return true
		}
		off, err := f.entryOffset(uint64(k))
		if err == nil {
			err = f.readEntry(off, &e, false)
		}
		if err != nil {
			searchErr = err
			return true
		}
		if bySeqnum {
			return e.Seqnum > c.Seqnum
		}
		return e.Realtime > c.Realtime
	})
	if searchErr != nil {
		return false, searchErr
	}
	f.pos = uint64(i)
	if bySeqnum && i > 0 {
		off, err := f.entryOffset(uint64(i - 1))
		if err == nil {
			err = f.readEntry(off, &e, false)
		}
		if err != nil {
			return false, err
		}
		found = e.Seqnum == c.Seqnum
	}
	return found, nil
}

// peek reads the header part (no fields) of the entry Next would return.
func (f *File) peek(e *Entry) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer catchFault(&err)
	if f.err != nil {
		return f.err
	}
	if f.pos >= f.hdr.NEntries {
		return io.EOF
	}
	off, err := f.entryOffset(f.pos)
	if err != nil {
		f.err = err
		return err
	}
	return f.readEntry(off, e, false)
}
