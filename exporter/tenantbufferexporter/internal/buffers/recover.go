package buffers

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/segment"
)

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errorsJoin(err, f.Close())
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// recover registers every tenant directory found on disk. Only the newest
// segment of each tenant can hold a torn write (older ones were complete
// when they were sealed), so only it is scanned; its bad tail is truncated
// and counted. Recovered tenants count against the buffer cap but are
// always kept: data already admitted is never dropped at start-up.
func (s *Store) recover() error {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return fmt.Errorf("buffers: reading %s: %w", s.root, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name, ok := s.tenantOfDir(e.Name())
		if !ok {
			continue
		}
		if _, dup := s.lookup(name); dup {
			// The same tenant in both directory forms (written by this
			// version and by the previous one in turn): the first, of the
			// current form, is the buffer; the other is left alone, counted.
			s.unreadableDirs.Add(1)
			continue
		}
		t := s.newTenant(name)
		t.dir, t.hasDir = e.Name(), true
		if err := s.recoverTenant(t); err != nil {
			return err
		}
		s.insert(name, t)
	}
	return syncDir(s.opts.Dir)
}

// tenantOfDir returns the tenant a directory under the root belongs to. A
// directory of the current form whose name file is missing or does not
// match was being created when the process stopped: its segments were
// never acknowledged durable (the name file is synced before they are), so
// one without records is removed; one with records is left alone and
// counted, never guessed at.
func (s *Store) tenantOfDir(d string) (string, bool) {
	if !isHashedDir(d) {
		return legacyTenantFromDir(d)
	}
	dir := filepath.Join(s.root, d)
	if name, ok := readNameFile(dir); ok {
		return name, true
	}
	if holdsRecords(dir) {
		s.unreadableDirs.Add(1)
	} else {
		_ = os.RemoveAll(dir)
	}
	return "", false
}

// holdsRecords reports whether dir has a segment file that is not empty.
func holdsRecords(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return true // cannot tell: keep it
	}
	for _, e := range entries {
		if _, _, _, ok := segment.ParseFileName(e.Name()); !ok {
			continue
		}
		if info, err := e.Info(); err != nil || info.Size() > 0 {
			return true
		}
	}
	return false
}

func (s *Store) recoverTenant(t *tenant) error {
	dir := s.tenantDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("buffers: reading %s: %w", dir, err)
	}
	var legacy []bool // per segment: named without its first record number
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ".tmp") { // an interrupted position write
			_ = os.Remove(filepath.Join(dir, n))
			continue
		}
		base, rec, hasRec, ok := segment.ParseFileName(n)
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed under us
		}
		t.segs = append(t.segs, segInfo{base: base, firstRec: rec, size: info.Size(), firstTS: info.ModTime().UnixNano(), lastTS: info.ModTime().UnixNano(), sealed: true})
		legacy = append(legacy, !hasRec)
	}
	order := make([]int, len(t.segs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(t.segs[a].base, t.segs[b].base) })
	segs, leg := make([]segInfo, len(order)), make([]bool, len(order))
	for i, j := range order {
		segs[i], leg[i] = t.segs[j], legacy[j]
	}
	t.segs = segs
	if n := len(t.segs); n > 0 {
		last := &t.segs[n-1]
		lastRecords, err := s.repairTail(dir, last, leg[n-1])
		if err != nil {
			return err
		}
		if slices.Contains(leg, true) {
			if err := s.numberLegacySegments(dir, t.segs, leg, lastRecords); err != nil {
				return err
			}
		}
		last.sealed = false                            // appends continue in it
		t.end = last.base + uint64(last.size)          //nolint:gosec // G115: file sizes and record counts from the scan, never negative
		t.recEnd = last.firstRec + uint64(lastRecords) //nolint:gosec // G115: file sizes and record counts from the scan, never negative
	}
	var bytes int64
	for _, sg := range t.segs {
		bytes += sg.size
	}
	t.bytes.Store(bytes)
	s.total.Add(bytes)
	s.loadPositions(t)
	return nil
}

// numberLegacySegments gives segments named "<base>.seg" (written before
// segments carried their first record number) their record numbers and
// renames them to the current form, once. Their records are counted by
// reading them; a segment of the current form anchors the numbering (the
// older legacy ones count back from it), else the oldest starts at 0. The
// renames go newest first, so that after a crash half way the legacy ones
// left are the oldest, and count back from the same anchor to the same
// numbers.
func (s *Store) numberLegacySegments(dir string, segs []segInfo, legacy []bool, lastRecords int64) error {
	n := len(segs)
	count := func(i int) (uint64, error) {
		if i == n-1 {
			return uint64(lastRecords), nil //nolint:gosec // G115: a record count, never negative
		}
		res, err := scanFile(filepath.Join(dir, segName(segs[i], legacy[i])), s.opts.MaxRecordBytes)
		return uint64(res.Records), err //nolint:gosec // G115: a record count, never negative
	}
	k := slices.Index(legacy, false) // the first segment of the current form
	if k < 0 {
		k, segs[0].firstRec = 0, 0
	}
	for i := k - 1; i >= 0; i-- {
		c, err := count(i)
		if err != nil {
			return err
		}
		segs[i].firstRec = segs[i+1].firstRec - min(c, segs[i+1].firstRec)
	}
	for i := k + 1; i < n; i++ {
		if legacy[i] {
			c, err := count(i - 1)
			if err != nil {
				return err
			}
			segs[i].firstRec = segs[i-1].firstRec + c
		}
	}
	for i := n - 1; i >= 0; i-- {
		if !legacy[i] {
			continue
		}
		if err := os.Rename(filepath.Join(dir, segment.LegacyFileName(segs[i].base)), filepath.Join(dir, segs[i].fileName())); err != nil {
			return fmt.Errorf("buffers: renaming a segment of %s: %w", dir, err)
		}
	}
	return syncDir(dir)
}

func segName(sg segInfo, legacy bool) string {
	if legacy {
		return segment.LegacyFileName(sg.base)
	}
	return sg.fileName()
}

func scanFile(path string, maxRecord int) (segment.ScanResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return segment.ScanResult{}, fmt.Errorf("buffers: %w", err)
	}
	defer f.Close() //nolint:errcheck // opened for reading
	res, err := segment.Scan(f, maxRecord)
	if err != nil {
		return res, fmt.Errorf("buffers: scanning %s: %w", path, err)
	}
	return res, nil
}

// repairTail cuts a torn or corrupt tail off the newest segment and
// returns the records left in it.
func (s *Store) repairTail(dir string, seg *segInfo, legacy bool) (int64, error) {
	path := filepath.Join(dir, segName(*seg, legacy))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("buffers: opening %s: %w", path, err)
	}
	defer f.Close() //nolint:errcheck // the truncation is synced before it returns; nothing is left to flush
	res, err := segment.Scan(f, s.opts.MaxRecordBytes)
	if err != nil {
		return 0, fmt.Errorf("buffers: scanning %s: %w", path, err)
	}
	if res.ValidBytes < seg.size {
		s.tornBytes.Add(seg.size - res.ValidBytes)
		s.tornSegs.Add(1)
		if err := f.Truncate(res.ValidBytes); err != nil {
			return 0, fmt.Errorf("buffers: cutting the torn tail of %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			return 0, fmt.Errorf("buffers: %s: %w", path, err)
		}
		seg.size = res.ValidBytes
	}
	if res.LastTS != 0 {
		seg.firstTS, seg.lastTS = res.FirstTS, res.LastTS
	}
	return res.Records, nil
}
