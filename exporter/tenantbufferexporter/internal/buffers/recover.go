package buffers

import (
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
		name, ok := tenantFromDir(e.Name())
		if !ok {
			continue
		}
		t := s.newTenant(name)
		t.hasDir = true
		if err := s.recoverTenant(t); err != nil {
			return err
		}
		s.insert(name, t)
	}
	return syncDir(s.opts.Dir)
}

func (s *Store) recoverTenant(t *tenant) error {
	dir := s.tenantDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("buffers: reading %s: %w", dir, err)
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ".tmp") { // an interrupted position write
			_ = os.Remove(filepath.Join(dir, n))
			continue
		}
		base, ok := segment.ParseFileName(n)
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed under us
		}
		t.segs = append(t.segs, segInfo{base: base, size: info.Size(), firstTS: info.ModTime().UnixNano(), lastTS: info.ModTime().UnixNano(), sealed: true})
	}
	slices.SortFunc(t.segs, func(a, b segInfo) int {
		switch {
		case a.base < b.base:
			return -1
		case a.base > b.base:
			return 1
		}
		return 0
	})
	if n := len(t.segs); n > 0 {
		last := &t.segs[n-1]
		if err := s.repairTail(dir, last); err != nil {
			return err
		}
		last.sealed = false // appends continue in it
		t.end = last.base + uint64(last.size)
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

func (s *Store) repairTail(dir string, seg *segInfo) error {
	path := filepath.Join(dir, segment.FileName(seg.base))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("buffers: opening %s: %w", path, err)
	}
	defer f.Close()
	res, err := segment.Scan(f, s.opts.MaxRecordBytes)
	if err != nil {
		return fmt.Errorf("buffers: scanning %s: %w", path, err)
	}
	if res.ValidBytes < seg.size {
		s.tornBytes.Add(seg.size - res.ValidBytes)
		s.tornSegs.Add(1)
		if err := f.Truncate(res.ValidBytes); err != nil {
			return fmt.Errorf("buffers: cutting the torn tail of %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("buffers: %s: %w", path, err)
		}
		seg.size = res.ValidBytes
	}
	if res.LastTS != 0 {
		seg.firstTS, seg.lastTS = res.FirstTS, res.LastTS
	}
	return nil
}
