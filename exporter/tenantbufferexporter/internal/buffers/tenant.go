package buffers

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/segment"
)

// segInfo describes one segment file. The last one is the active segment.
type segInfo struct {
	base     uint64 // logical offset of its first frame in the tenant's stream
	firstRec uint64 // record number of its first frame (records of the stream before it)
	size     int64
	firstTS  int64 // timestamp of its oldest frame (unix ns)
	lastTS   int64 // timestamp of its newest frame (unix ns)
	sealed   bool  // no more appends (rolled, or a write failed)
}

// tenant is one buffer. Its in-memory state is small and independent of the
// data it holds (segment list, positions); an idle tenant keeps no file open.
type tenant struct {
	name    string
	dir     string // its directory under the store's root (DirName, or the older form it was found in)
	mu      sync.Mutex
	segs    []segInfo
	end     uint64   // logical end of the stream
	recEnd  uint64   // records of the stream: the record number at end
	pos     []uint64 // per consumer (index in Options.Consumers)
	posRec  []uint64 // per consumer: the record number at pos
	hint    []recHint
	posSeq  []uint64 // per consumer: sequence of the last position slot written (nil until one is)
	posFile []bool   // per consumer: its position file exists and its directory entry is durable
	posCur  []bool   // per consumer: its position file has the current size (no check before a write)
	bytes   atomic.Int64
	lastUse atomic.Int64 // unix ns of the last append or read

	w        *os.File // open writer of the active segment, or nil
	cacheGen uint64   // generation of w in the handle cache
	dirty    bool     // written since the last sync
	dirDirty bool     // a segment file was created since the last sync
	hasDir   bool
	nameNew  bool // the directory's name file was written since the last sync
	syncErr  error
	deleted  bool
}

// recHint remembers, per consumer, the record number at the end of its
// last read, so that a Commit of that offset (the usual case: a consumer
// commits what it read) learns the record number without reading.
type recHint struct {
	off, rec uint64
	ok       bool
}

func (s *Store) newTenant(name string) *tenant {
	t := &tenant{name: name, dir: DirName(name)}
	if n := len(s.opts.Consumers); n > 0 {
		t.pos = make([]uint64, n)
		t.posRec = make([]uint64, n)
		t.hint = make([]recHint, n)
	}
	t.lastUse.Store(s.opts.Now().UnixNano())
	return t
}

func (sg *segInfo) fileName() string { return segment.FileName(sg.base, sg.firstRec) }

func (s *Store) tenantDir(t *tenant) string { return filepath.Join(s.root, t.dir) }

// makeDirLocked creates t's directory if it has none yet. A failure is a
// *dirError: the tenant's records are refused, the others' go on.
func (s *Store) makeDirLocked(t *tenant) error {
	if t.hasDir {
		return nil
	}
	if err := makeTenantDir(s.tenantDir(t), t.name); err != nil {
		return &dirError{tenant: t.name, err: err}
	}
	t.hasDir, t.nameNew, t.dirDirty = true, true, true
	s.rootDirty.Store(true)
	return nil
}

// ensureWriterLocked opens the active segment for appending, creating the
// tenant directory and a new segment when needed. It returns handles the
// cache evicted, to be closed by the caller once it holds no tenant lock.
func (s *Store) ensureWriterLocked(t *tenant, victims []evicted) ([]evicted, error) {
	if t.w != nil {
		return victims, nil
	}
	if err := s.makeDirLocked(t); err != nil {
		return victims, err
	}
	dir := s.tenantDir(t)
	if n := len(t.segs); n == 0 || t.segs[n-1].sealed {
		t.segs = append(t.segs, segInfo{base: t.end, firstRec: t.recEnd})
	}
	seg := &t.segs[len(t.segs)-1]
	f, err := os.OpenFile(filepath.Join(dir, seg.fileName()), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640) //nolint:gosec // G302: group-readable like the rest of the buffer (the operators' group)
	if err != nil {
		// Leave no empty segment entry that no file backs.
		if seg.size == 0 {
			t.segs = t.segs[:len(t.segs)-1]
		}
		return victims, err
	}
	if seg.size == 0 {
		t.dirDirty = true
	}
	t.w = f
	return s.handles.add(t, victims), nil
}

// closeWriterLocked syncs (if the store syncs) and closes t's writer.
func (s *Store) closeWriterLocked(t *tenant) error {
	if t.w == nil {
		return nil
	}
	var err error
	if s.opts.Sync && t.dirty {
		err = unix.Fdatasync(int(t.w.Fd()))
		if err == nil {
			t.dirty = false
		}
	}
	err = errors.Join(err, t.w.Close())
	t.w = nil
	if err != nil && t.syncErr == nil {
		t.syncErr = err
	}
	return err
}

// writeLocked appends encoded frames (whose sizes are in sizes, and newest
// timestamp is ts) to the active segment, rolling by size between frames.
func (s *Store) writeLocked(t *tenant, frames []byte, sizes []int, ts int64, victims []evicted) ([]evicted, error) {
	for len(sizes) > 0 {
		var err error
		if n := len(t.segs); n > 0 && !t.segs[n-1].sealed && t.segs[n-1].size > 0 &&
			(t.segs[n-1].size+int64(sizes[0]) > s.opts.SegmentBytes || ts-t.segs[n-1].firstTS > int64(s.opts.SegmentMaxAge)) {
			// Rolled by size, and by age so that retention, which removes
			// whole segments, never keeps a record much past its max age.
			s.rollLocked(t)
		}
		if victims, err = s.ensureWriterLocked(t, victims); err != nil {
			return victims, err
		}
		seg := &t.segs[len(t.segs)-1]
		// Take as many frames as fit in this segment (at least one).
		var chunk, k int
		for k < len(sizes) && (k == 0 || seg.size+int64(chunk+sizes[k]) <= s.opts.SegmentBytes) {
			chunk += sizes[k]
			k++
		}
		if _, err := t.w.Write(frames[:chunk]); err != nil {
			// Never leave a partial frame in front of later appends: cut
			// back to the last whole frame, and seal the segment either way.
			_ = t.w.Truncate(seg.size)
			s.rollLocked(t)
			return victims, fmt.Errorf("buffers: writing tenant %q: %w", t.name, err)
		}
		if seg.size == 0 {
			seg.firstTS = ts
		}
		seg.size += int64(chunk)
		seg.lastTS = ts
		t.end += uint64(chunk)
		t.recEnd += uint64(k)
		t.bytes.Add(int64(chunk))
		s.total.Add(int64(chunk))
		t.dirty = true
		frames, sizes = frames[chunk:], sizes[k:]
	}
	return victims, nil
}

// rollLocked seals the active segment; the next append starts a new one.
func (s *Store) rollLocked(t *tenant) {
	if n := len(t.segs); n > 0 {
		t.segs[n-1].sealed = true
	}
	if t.w != nil {
		_ = s.closeWriterLocked(t)
		s.handles.remove(t)
	}
}

// removeOldestLocked deletes t's oldest segment and returns its size.
func (s *Store) removeOldestLocked(t *tenant) (int64, error) {
	if len(t.segs) == 0 {
		return 0, nil
	}
	seg := t.segs[0]
	if len(t.segs) == 1 && t.w != nil {
		_ = s.closeWriterLocked(t)
		s.handles.remove(t)
	}
	err := os.Remove(filepath.Join(s.tenantDir(t), seg.fileName()))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	t.segs = t.segs[1:]
	if len(t.segs) == 0 {
		t.segs = nil // release the backing array
	}
	t.bytes.Add(-seg.size)
	s.total.Add(-seg.size)
	return seg.size, nil
}

// deleteLocked removes all of t's data from disk and memory. The directory
// goes before the tenant leaves the table: until then a new buffer of the
// same name cannot be made (its writer waits on t.mu, then finds t
// deleted), so it never creates its directory while this one is removed.
func (s *Store) deleteLocked(t *tenant) (int64, error) {
	if t.w != nil {
		t.dirty = false // about to be removed: no point syncing it
		_ = s.closeWriterLocked(t)
		s.handles.remove(t)
	}
	t.deleted = true
	var err error
	if t.hasDir {
		err = os.RemoveAll(s.tenantDir(t))
		t.hasDir = false
	}
	s.remove(t)
	n := t.bytes.Swap(0)
	s.total.Add(-n)
	t.segs = nil
	return n, err
}

// dropEmptyLocked takes a tenant that has nothing on disk (every record of
// its first append was refused, or its directory could not be made) out of
// the table, so that it holds no slot under the buffer cap. The overflow
// buffer stays: the cap relies on it.
func (s *Store) dropEmptyLocked(t *tenant) {
	if t.hasDir || len(t.segs) > 0 || t.deleted || t.name == s.opts.OverflowTenant {
		return
	}
	t.deleted = true
	s.remove(t)
}
