package buffers

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/segment"
)

// Record is one record read from a buffer.
type Record struct {
	Offset    uint64 // logical offset of the record in its tenant's stream
	Next      uint64 // offset after it: commit this to pass the record
	Timestamp int64  // when it was appended (unix ns)
	Payload   []byte
}

// Position returns where consumer stands in tenant's buffer, and the end.
func (s *Store) Position(tenantName, consumer string) (pos, end uint64, err error) {
	ci, ok := s.consumers[consumer]
	if !ok {
		return 0, 0, ErrUnknownConsumer
	}
	t, ok := s.lookup(tenantName)
	if !ok {
		return 0, 0, ErrUnknownTenant
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pos[ci], t.end, nil
}

// Read returns up to maxRecords records (and about maxBytes of payload, at
// least one record) of tenant's buffer from consumer's position on. It does
// not move the position: Commit does, once the records were delivered. Data
// reclaimed or expired under a consumer is skipped and counted.
func (s *Store) Read(tenantName, consumer string, maxRecords, maxBytes int) ([]Record, error) {
	ci, ok := s.consumers[consumer]
	if !ok {
		return nil, ErrUnknownConsumer
	}
	return s.read(tenantName, ci, 0, maxRecords, maxBytes)
}

// ReadAt reads like Read but from the logical offset from (for a consumer
// that reads ahead of its committed position, or a check of everything
// still held: from 0 starts at the oldest record).
func (s *Store) ReadAt(tenantName string, from uint64, maxRecords, maxBytes int) ([]Record, error) {
	return s.read(tenantName, -1, from, maxRecords, maxBytes)
}

func (s *Store) read(tenantName string, ci int, from uint64, maxRecords, maxBytes int) ([]Record, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return nil, ErrClosed
	}
	t, ok := s.lookup(tenantName)
	if !ok {
		return nil, ErrUnknownTenant
	}
	r := &tenantRead{s: s, t: t, ci: ci, from: from, maxRecords: maxRecords, maxBytes: maxBytes}
	defer r.saveHint()
	for attempt := 0; attempt < 4; attempt++ {
		if done, err := r.pass(); done || err != nil {
			return r.out, err
		}
	}
	return r.out, nil
}

// tenantRead is one read of a tenant's buffer: from consumer ci's position
// (from, for ci < 0), up to maxRecords records and about maxBytes of
// payload, gathered in out.
type tenantRead struct {
	s                    *Store
	t                    *tenant
	ci                   int
	from                 uint64
	maxRecords, maxBytes int

	out   []Record
	bytes int
	// The record number after the last record of out, when known: a
	// consumer's read starts at its position, whose record number is
	// known, and every segment's first record has a known number.
	hint recHint
}

// saveHint keeps the record number after the consumer's last read record,
// for its next read.
func (r *tenantRead) saveHint() {
	if r.ci >= 0 && r.hint.ok {
		r.t.mu.Lock()
		r.t.hint[r.ci] = r.hint
		r.t.mu.Unlock()
	}
}

// snapshot is where this pass starts (and its record number, if known) and
// the tenant's segments at that moment.
func (r *tenantRead) snapshot() (pos, rec uint64, recOK bool, segs []segInfo) {
	t := r.t
	t.mu.Lock()
	pos = r.from
	if r.ci >= 0 {
		pos, rec, recOK = t.pos[r.ci], t.posRec[r.ci], true
	}
	if len(r.out) > 0 {
		pos, rec, recOK = r.out[len(r.out)-1].Next, r.hint.rec, r.hint.ok
	}
	segs = append([]segInfo(nil), t.segs...) // this tenant's few segments, not the tenant table
	t.mu.Unlock()
	t.lastUse.Store(r.s.opts.Now().UnixNano())
	return pos, rec, recOK, segs
}

// skipTo moves pos up to base, the first offset still held; a consumer
// never reads what lies between: it is counted.
func (r *tenantRead) skipTo(pos, base uint64) uint64 {
	if pos < base {
		if r.ci >= 0 { // a consumer never reads these: count them
			r.s.skipped.Add(int64(base - pos)) //nolint:gosec // G115: byte offsets within the buffer, far below 2^63
		}
		pos = base
	}
	return pos
}

// pass reads the segments from where the read stands; done when the read
// is complete (or failed), not done when a segment was removed under it
// before anything was read, and the segment list must be looked at again.
func (r *tenantRead) pass() (done bool, err error) {
	pos, rec, recOK, segs := r.snapshot()
	if len(segs) == 0 {
		return true, nil
	}
	pos = r.skipTo(pos, segs[0].base)
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base+uint64(segs[i].size) > pos }) //nolint:gosec // G115: segment sizes are file sizes, never negative
	progressed := false
	for ; i < len(segs) && len(r.out) < r.maxRecords && (r.bytes < r.maxBytes || len(r.out) == 0); i++ {
		sg := segs[i]
		pos = r.skipTo(pos, sg.base)
		if pos == sg.base {
			rec, recOK = sg.firstRec, true
		}
		recs, next, err := r.s.readSegment(r.t, sg, pos, r.maxRecords-len(r.out), r.maxBytes-r.bytes)
		if errors.Is(err, os.ErrNotExist) {
			break // removed under us: look at the segment list again
		}
		if err != nil {
			return true, err
		}
		rec = r.take(recs, rec, recOK)
		progressed = true
		pos = next
	}
	return progressed || i >= len(segs) || len(r.out) >= r.maxRecords, nil
}

// take adds recs to the read, whose first has record number rec; it
// returns the record number after them.
func (r *tenantRead) take(recs []Record, rec uint64, recOK bool) uint64 {
	for _, rc := range recs {
		r.bytes += len(rc.Payload)
	}
	if len(recs) > 0 {
		rec += uint64(len(recs))
		r.hint = recHint{off: recs[len(recs)-1].Next, rec: rec, ok: recOK}
	}
	r.out = append(r.out, recs...)
	return rec
}

// Reads of a segment start with a chunk of readChunk bytes (or what is left
// of the read's byte budget, if less) and double from there, so that a
// read of a few records reads little, and a batch a few preads.
const (
	readChunk    = 128 << 10
	maxReadChunk = 8 << 20
)

// readSegment reads frames of sg from logical offset pos with pread into
// slabs that the payloads alias. A corrupt frame skips the rest of the
// segment (counted): the next segment goes on.
func (s *Store) readSegment(t *tenant, sg segInfo, pos uint64, maxRecords, maxBytes int) ([]Record, uint64, error) {
	path := filepath.Join(s.tenantDir(t), sg.fileName())
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, pos, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	off := int64(pos - sg.base) //nolint:gosec // G115: pos lies within the segment (found by the search above)
	var buf []byte              // bytes of the file from bufOff on
	var bufOff int64
	chunk := int64(min(min(max(maxBytes, 0), readChunk)+min(max(maxRecords, 0), 1<<16)*segment.HeaderSize, readChunk))
	chunk = max(chunk, 4<<10)
	// have makes buf hold [off, off+n); false when the segment ends first.
	have := func(n int) bool {
		if off >= bufOff && off+int64(n) <= bufOff+int64(len(buf)) {
			return true
		}
		want := min(max(int64(n), chunk), sg.size-off)
		if want < int64(n) {
			return false
		}
		b := make([]byte, want)
		if err := preadFull(fd, b, off); err != nil {
			return false
		}
		buf, bufOff = b, off
		chunk = min(chunk*2, maxReadChunk)
		return true
	}
	var out []Record
	bytes := 0
	for len(out) < maxRecords && (bytes < maxBytes || len(out) == 0) && off < sg.size {
		if !have(segment.HeaderSize) {
			return s.skipRest(out, sg, pos)
		}
		n, err := segment.DecodeHeader(buf[off-bufOff:], s.opts.MaxRecordBytes)
		if err != nil || !have(segment.HeaderSize+n) {
			return s.skipRest(out, sg, pos)
		}
		frame := buf[off-bufOff:]
		hdr, p := frame[:segment.HeaderSize], frame[segment.HeaderSize:segment.HeaderSize+n:segment.HeaderSize+n]
		if !segment.Verify(hdr, p) {
			return s.skipRest(out, sg, pos)
		}
		next := pos + uint64(segment.HeaderSize+n) //nolint:gosec // G115: n is a decoded length, bounded by MaxRecordBytes
		out = append(out, Record{Offset: pos, Next: next, Timestamp: segment.Timestamp(hdr), Payload: p})
		bytes += n
		pos = next
		off += int64(segment.HeaderSize + n)
	}
	return out, pos, nil
}

func preadFull(fd int, b []byte, off int64) error {
	for len(b) > 0 {
		n, err := unix.Pread(fd, b, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrUnexpectedEOF
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

func (s *Store) skipRest(out []Record, sg segInfo, pos uint64) ([]Record, uint64, error) {
	end := sg.base + uint64(sg.size) //nolint:gosec // G115: segment sizes are file sizes, never negative
	s.skipped.Add(int64(end - pos))  //nolint:gosec // G115: byte offsets within the buffer, far below 2^63
	return out, end, nil
}

// Commit moves consumer's position in tenant's buffer to next (never
// backwards) and makes it durable; segments every consumer has passed are
// removed.
func (s *Store) Commit(tenantName, consumer string, next uint64) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	ci, ok := s.consumers[consumer]
	if !ok {
		return ErrUnknownConsumer
	}
	t, ok := s.lookup(tenantName)
	if !ok {
		return ErrUnknownTenant
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.deleted {
		return ErrUnknownTenant
	}
	if next > t.end {
		return fmt.Errorf("buffers: commit %d beyond the end %d of tenant %q", next, t.end, t.name)
	}
	if next <= t.pos[ci] {
		return nil
	}
	rec := t.recEnd
	if h := t.hint[ci]; h.ok && h.off == next {
		rec = h.rec // what the consumer read last: the usual case
	} else if next < t.end {
		rec = s.recordAtLocked(t, next, t.pos[ci], t.posRec[ci], true)
	}
	if err := s.writePosition(t, ci, consumer, next, rec); err != nil {
		return err
	}
	t.pos[ci], t.posRec[ci] = next, rec
	t.lastUse.Store(s.opts.Now().UnixNano())
	low := t.pos[0]
	for _, p := range t.pos[1:] {
		low = min(low, p)
	}
	for len(t.segs) > 1 && t.segs[0].base+uint64(t.segs[0].size) <= low { //nolint:gosec // G115: segment sizes are file sizes, never negative
		n, err := s.removeOldestLocked(t)
		if err != nil {
			return err
		}
		s.consumed.Add(n)
	}
	return nil
}

func posFile(consumer string) string { return "pos-" + consumer }

// writePosition stores a position durably, in place: one fixed-size slot of
// the consumer's position file (see posfile.go) is overwritten with pwrite,
// then fdatasync'd. Only creating the file costs a directory sync, once.
func (s *Store) writePosition(t *tenant, ci int, consumer string, pos, rec uint64) error {
	if err := s.makeDirLocked(t); err != nil {
		return err
	}
	dir := s.tenantDir(t)
	if t.nameNew && s.opts.Sync {
		if err := syncNameFile(dir); err != nil {
			return err
		}
		t.nameNew = false
	}
	if t.posSeq == nil {
		t.posSeq = make([]uint64, len(s.opts.Consumers))
		t.posFile = make([]bool, len(s.opts.Consumers))
		t.posCur = make([]bool, len(s.opts.Consumers))
	}
	seq := t.posSeq[ci] + 1
	created, err := writePosSlot(filepath.Join(dir, posFile(consumer)), seq, pos, rec, s.opts.Sync, t.posCur[ci])
	if err != nil {
		t.posCur[ci] = false // look at the file again next time
		return err
	}
	if (created || !t.posFile[ci]) && s.opts.Sync {
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	t.posFile[ci], t.posCur[ci] = true, true
	t.posSeq[ci] = seq
	return nil
}

// recordAtLocked returns the record number at offset off of t's stream:
// from the segment list when off starts a segment (or precedes the data
// held: the oldest record held), else by counting the frames between the
// closest known point (the segment's start, or anchor, a consumer's
// position, when it lies between) and off. Counting reads that part of one
// segment; Commit needs it only when a consumer commits an offset other
// than the end of its last read.
func (s *Store) recordAtLocked(t *tenant, off, anchor, anchorRec uint64, anchorOK bool) uint64 {
	if off >= t.end || len(t.segs) == 0 {
		return t.recEnd
	}
	i := sort.Search(len(t.segs), func(i int) bool { return t.segs[i].base > off }) - 1
	if i < 0 {
		return t.segs[0].firstRec
	}
	sg := t.segs[i]
	upper := t.recEnd
	if i+1 < len(t.segs) {
		upper = t.segs[i+1].firstRec
	}
	if off == sg.base {
		return sg.firstRec
	}
	from, rec := sg.base, sg.firstRec
	if anchorOK && anchor > sg.base && anchor <= off && anchorRec >= sg.firstRec && anchorRec <= upper {
		from, rec = anchor, anchorRec
	}
	n, err := countFrames(filepath.Join(s.tenantDir(t), sg.fileName()), int64(from-sg.base), int64(off-sg.base), s.opts.MaxRecordBytes) //nolint:gosec // G115: offsets within one segment file
	if err != nil {
		return rec // cannot tell: the lag shows more records, never fewer
	}
	return min(rec+n, upper)
}

// countFrames counts the whole frames of a segment file between two byte
// offsets, reading their headers only.
func countFrames(path string, from, to int64, maxRecord int) (uint64, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	var n uint64
	var hdr [segment.HeaderSize]byte
	for from+segment.HeaderSize <= to {
		if err := preadFull(fd, hdr[:], from); err != nil {
			return n, err
		}
		size, err := segment.DecodeHeader(hdr[:], maxRecord)
		if err != nil {
			return n, err
		}
		if from+int64(segment.FrameSize(size)) > to {
			break
		}
		from += int64(segment.FrameSize(size))
		n++
	}
	return n, nil
}

// Lag is a consumer's backlog in one tenant's buffer.
type Lag struct {
	Bytes   int64 // bytes held from the consumer's position to the end
	Records int64 // records held from the consumer's position to the end
	// Oldest is the timestamp (unix ns) of the oldest record the consumer
	// has not passed; 0 when there is none.
	Oldest int64
}

// Lag returns consumer's backlog in tenant's buffer: bytes and records
// from its position (or the oldest record held, when data was removed
// under it) to the end. Bytes and records come from counters kept on
// append and commit; the age of the oldest record costs one 16-byte pread
// of its frame header.
func (s *Store) Lag(tenantName, consumer string) (Lag, error) {
	ci, ok := s.consumers[consumer]
	if !ok {
		return Lag{}, ErrUnknownConsumer
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return Lag{}, ErrClosed
	}
	t, ok := s.lookup(tenantName)
	if !ok {
		return Lag{}, ErrUnknownTenant
	}
	for attempt := 0; ; attempt++ {
		t.mu.Lock()
		if t.deleted {
			t.mu.Unlock()
			return Lag{}, ErrUnknownTenant
		}
		if len(t.segs) == 0 {
			t.mu.Unlock()
			return Lag{}, nil
		}
		pos, rec := t.pos[ci], t.posRec[ci]
		if pos < t.segs[0].base {
			pos, rec = t.segs[0].base, t.segs[0].firstRec
		}
		l := Lag{Bytes: int64(t.end - pos), Records: int64(t.recEnd - min(rec, t.recEnd))} //nolint:gosec // G115: end >= pos and recEnd >= the min: differences of offsets, far below 2^63
		if l.Bytes <= 0 {
			t.mu.Unlock()
			return Lag{}, nil
		}
		i := sort.Search(len(t.segs), func(i int) bool { return t.segs[i].base > pos }) - 1
		sg := t.segs[i]
		dir := s.tenantDir(t)
		t.mu.Unlock()
		ts, err := frameTimestamp(filepath.Join(dir, sg.fileName()), int64(pos-sg.base), s.opts.MaxRecordBytes) //nolint:gosec // G115: pos lies within the segment
		if errors.Is(err, os.ErrNotExist) && attempt < 3 {
			continue // the segment went under us: look again
		}
		if err == nil {
			l.Oldest = ts
		}
		return l, nil
	}
}

func frameTimestamp(path string, off int64, maxRecord int) (int64, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	var hdr [segment.HeaderSize]byte
	if err := preadFull(fd, hdr[:], off); err != nil {
		return 0, err
	}
	if _, err := segment.DecodeHeader(hdr[:], maxRecord); err != nil {
		return 0, err
	}
	return segment.Timestamp(hdr[:]), nil
}

func (s *Store) loadPositions(t *tenant) {
	dir := s.tenantDir(t)
	first, firstRec := t.end, t.recEnd
	if len(t.segs) > 0 {
		first, firstRec = t.segs[0].base, t.segs[0].firstRec
	}
	for c, ci := range s.consumers {
		b, err := os.ReadFile(filepath.Join(dir, posFile(c)))
		pos, rec, known := first, firstRec, true
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			s.badPosFiles.Add(1) // read again from the oldest record: at-least-once
		default:
			r, ok := decodePosFile(b)
			if !ok {
				s.badPosFiles.Add(1) // read again from the oldest record: at-least-once
				break
			}
			if t.posSeq == nil {
				t.posSeq = make([]uint64, len(s.opts.Consumers))
				t.posFile = make([]bool, len(s.opts.Consumers))
				t.posCur = make([]bool, len(s.opts.Consumers))
			}
			t.posSeq[ci], t.posFile[ci], t.posCur[ci] = r.seq, true, len(b) == posFileSize
			if r.pos > first {
				pos, rec, known = min(r.pos, t.end), r.rec, r.hasRec
			}
		}
		if pos == t.end {
			rec, known = t.recEnd, true
		}
		// A record number from the file is used when it fits the segment
		// it falls in; a file of an older format has none: then it is
		// counted, once, from the segment's start.
		t.pos[ci], t.posRec[ci] = pos, s.recordAtLocked(t, pos, pos, rec, known)
	}
}
