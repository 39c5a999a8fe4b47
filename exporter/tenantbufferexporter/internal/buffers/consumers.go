package buffers

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

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
	var out []Record
	bytes := 0
	for attempt := 0; attempt < 4; attempt++ {
		t.mu.Lock()
		pos := from
		if ci >= 0 {
			pos = t.pos[ci]
		}
		if len(out) > 0 {
			pos = out[len(out)-1].Next
		}
		segs := append([]segInfo(nil), t.segs...) // this tenant's few segments, not the tenant table
		t.mu.Unlock()
		t.lastUse.Store(s.opts.Now().UnixNano())
		if len(segs) == 0 {
			return out, nil
		}
		if pos < segs[0].base {
			if ci >= 0 { // a consumer never reads these: count them
				s.skipped.Add(int64(segs[0].base - pos))
			}
			pos = segs[0].base
		}
		i := sort.Search(len(segs), func(i int) bool { return segs[i].base+uint64(segs[i].size) > pos })
		progressed := false
		for ; i < len(segs) && len(out) < maxRecords && (bytes < maxBytes || len(out) == 0); i++ {
			sg := segs[i]
			if pos < sg.base {
				if ci >= 0 { // a consumer never reads these: count them
					s.skipped.Add(int64(sg.base - pos))
				}
				pos = sg.base
			}
			recs, next, err := s.readSegment(t, sg, pos, maxRecords-len(out), maxBytes-bytes)
			if errors.Is(err, os.ErrNotExist) {
				break // removed under us: look at the segment list again
			}
			if err != nil {
				return out, err
			}
			for _, r := range recs {
				bytes += len(r.Payload)
			}
			out = append(out, recs...)
			progressed = true
			pos = next
		}
		if progressed || i >= len(segs) || len(out) >= maxRecords {
			return out, nil
		}
	}
	return out, nil
}

// readSegment reads frames of sg from logical offset pos. A corrupt frame
// skips the rest of the segment (counted): the next segment goes on.
func (s *Store) readSegment(t *tenant, sg segInfo, pos uint64, maxRecords, maxBytes int) ([]Record, uint64, error) {
	f, err := os.Open(filepath.Join(s.tenantDir(t), segment.FileName(sg.base)))
	if err != nil {
		return nil, pos, err
	}
	defer f.Close()
	off := int64(pos - sg.base)
	// One read per 64 KiB rather than two per record; a short tail of a
	// segment (the common case of a push batch) gets a buffer its size.
	r := bufio.NewReaderSize(io.NewSectionReader(f, off, sg.size-off), int(min(max(sg.size-off, 16), 64<<10)))
	var out []Record
	var hdrBuf [segment.HeaderSize]byte
	hdr := hdrBuf[:]
	bytes := 0
	// Payloads are cut from slabs rather than allocated one by one.
	var slab []byte
	for len(out) < maxRecords && (bytes < maxBytes || len(out) == 0) {
		if _, err := io.ReadFull(r, hdr); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return s.skipRest(out, sg, pos)
		}
		n, err := segment.DecodeHeader(hdr, s.opts.MaxRecordBytes)
		if err != nil {
			return s.skipRest(out, sg, pos)
		}
		if cap(slab)-len(slab) < n {
			slab = make([]byte, 0, max(n, min(maxBytes-bytes+n, 256<<10, int(sg.size-off))))
		}
		p := slab[len(slab) : len(slab)+n : len(slab)+n]
		slab = slab[:len(slab)+n]
		if _, err := io.ReadFull(r, p); err != nil || !segment.Verify(hdr, p) {
			return s.skipRest(out, sg, pos)
		}
		next := pos + uint64(segment.HeaderSize+n)
		out = append(out, Record{Offset: pos, Next: next, Timestamp: segment.Timestamp(hdr), Payload: p})
		bytes += n
		pos = next
	}
	return out, pos, nil
}

func (s *Store) skipRest(out []Record, sg segInfo, pos uint64) ([]Record, uint64, error) {
	end := sg.base + uint64(sg.size)
	s.skipped.Add(int64(end - pos))
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
	if err := s.writePosition(t, ci, consumer, next); err != nil {
		return err
	}
	t.pos[ci] = next
	t.lastUse.Store(s.opts.Now().UnixNano())
	low := t.pos[0]
	for _, p := range t.pos[1:] {
		low = min(low, p)
	}
	for len(t.segs) > 1 && t.segs[0].base+uint64(t.segs[0].size) <= low {
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
func (s *Store) writePosition(t *tenant, ci int, consumer string, pos uint64) error {
	dir := s.tenantDir(t)
	if !t.hasDir {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		t.hasDir = true
	}
	if t.posSeq == nil {
		t.posSeq = make([]uint64, len(s.opts.Consumers))
		t.posFile = make([]bool, len(s.opts.Consumers))
	}
	seq := t.posSeq[ci] + 1
	created, err := writePosSlot(filepath.Join(dir, posFile(consumer)), seq, pos, s.opts.Sync)
	if err != nil {
		return err
	}
	if (created || !t.posFile[ci]) && s.opts.Sync {
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	t.posFile[ci] = true
	t.posSeq[ci] = seq
	return nil
}

func (s *Store) loadPositions(t *tenant) {
	dir := s.tenantDir(t)
	first := uint64(0)
	if len(t.segs) > 0 {
		first = t.segs[0].base
	}
	for c, ci := range s.consumers {
		b, err := os.ReadFile(filepath.Join(dir, posFile(c)))
		pos := first
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			s.badPosFiles.Add(1) // read again from the oldest record: at-least-once
		default:
			p, seq, ok := decodePosFile(b)
			if !ok {
				s.badPosFiles.Add(1) // read again from the oldest record: at-least-once
				break
			}
			if t.posSeq == nil {
				t.posSeq = make([]uint64, len(s.opts.Consumers))
				t.posFile = make([]bool, len(s.opts.Consumers))
			}
			t.posSeq[ci], t.posFile[ci] = seq, true
			pos = max(p, first)
		}
		t.pos[ci] = min(pos, t.end)
	}
}
