package logfileexporter

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Directories are read in two places only, both outside the exporter's
// lock (e.mu) and serialized by e.scanMu:
//
//   - adoptPending, in the background, after new paths were opened: it
//     looks up their rotated files left by earlier runs in a cached
//     listing of their directory, so a thousand new paths in one
//     directory cost one listing, not a thousand;
//   - sweep, every retentionSweepEvery: it lists each directory of a
//     known path once, refreshes the cache, and reconciles the in-memory
//     accounting with what other tools changed (files removed, renamed,
//     touched).
//
// Everything else (rotation, retention, compression) updates the
// in-memory lists of rotated files and never reads a directory.

// dirListing is one directory's rotated-looking files, by the live file
// name they belong to ("app.log" for "app.log.20261122T100000.gz").
type dirListing map[string][]fs.DirEntry

// listDir reads dir once; a missing or unreadable directory lists empty.
func listDir(dir string) dirListing {
	l := dirListing{}
	d, err := os.Open(dir)
	if err != nil {
		return l
	}
	defer d.Close()             //nolint:errcheck // directory opened for reading
	entries, _ := d.ReadDir(-1) // unsorted: the order does not matter here
	for _, ent := range entries {
		if !ent.Type().IsRegular() {
			continue
		}
		if base, _, ok := splitRotated(ent.Name()); ok {
			l[base] = append(l[base], ent)
		}
	}
	return l
}

// splitRotated splits "<base>.<stamp>[-<n>][.gz|.zst][.tmp]".
func splitRotated(name string) (string, rotatedFile, bool) {
	s := strings.TrimSuffix(name, ".tmp")
	s = strings.TrimSuffix(strings.TrimSuffix(s, ".gz"), ".zst")
	dot := strings.LastIndexByte(s, '.')
	if dot <= 0 {
		return "", rotatedFile{}, false
	}
	r, ok := parseRotated(name[dot+1:])
	return name[:dot], r, ok
}

// filesOf returns path's rotated files (unfinished compressions
// included, marked tmp) with their sizes and times, oldest first. Files
// removed since the listing are left out.
func (l dirListing) filesOf(path string) []rotatedFile {
	dir, base := filepath.Split(path)
	var out []rotatedFile
	for _, ent := range l[base] {
		_, r, _ := splitRotated(ent.Name())
		info, err := ent.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		r.name, r.size, r.mtime = filepath.Join(dir, ent.Name()), info.Size(), info.ModTime()
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].sameRotation(out[j]) {
			return out[i].name < out[j].name
		}
		return out[i].before(out[j])
	})
	return out
}

// listingOf returns dir's cached listing, reading it on first use. The
// caller holds e.scanMu, not e.mu.
func (e *logfileExporter) listingOf(dir string) dirListing {
	l, ok := e.listings[dir]
	if !ok {
		l = listDir(dir)
		e.listings[dir] = l
	}
	return l
}

// adoptPending looks for rotated files of earlier runs at paths opened
// for the first time, counts them, compresses the uncompressed ones,
// removes unfinished compressions, and applies retention.
func (e *logfileExporter) adoptPending() {
	e.scanMu.Lock()
	defer e.scanMu.Unlock()
	e.adoptPendingScanning()
}

// adoptPendingScanning is adoptPending with e.scanMu held.
func (e *logfileExporter) adoptPendingScanning() {
	e.mu.Lock()
	paths := e.pendingAdopt
	e.pendingAdopt = nil
	e.mu.Unlock()
	if len(paths) == 0 {
		return
	}
	found := make([][]rotatedFile, len(paths))
	for i, p := range paths {
		found[i] = e.listingOf(dirOf(p)).filesOf(p)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	now := e.now()
	for i, p := range paths {
		if a := e.accts[p]; a != nil && !a.adopted {
			e.adopt(a, found[i], now)
		}
	}
}

// adopt merges files found on disk into a's rotations.
func (e *logfileExporter) adopt(a *pathAcct, files []rotatedFile, now time.Time) {
	var complete []rotatedFile
	for _, f := range files {
		if f.tmp {
			if e.compress.inProgress == "" || !strings.HasPrefix(f.name, e.compress.inProgress) {
				_ = os.Remove(f.name) // debris of an interrupted compression
			}
			continue
		}
		complete = append(complete, f)
	}
	rotations, leftovers := oneFilePerRotation(complete)
	for _, f := range leftovers {
		_ = os.Remove(f.name) // the original of a finished compression
	}
	merged, added := mergeRotations(a.rotated, rotations, func(rotatedFile) bool { return true })
	for _, f := range added {
		if f.ext == "" {
			e.compress.enqueue(f.name, a.path)
		}
	}
	e.setRotated(a, merged)
	a.adopted = true
	e.applyRetention(a, now)
}

// oneFilePerRotation keeps one file of each rotation, the compressed one
// when both exist (a compressed file is renamed into place only when
// complete); leftovers are the other files.
func oneFilePerRotation(files []rotatedFile) (rotations, leftovers []rotatedFile) {
	for _, f := range files {
		n := len(rotations)
		if n > 0 && rotations[n-1].sameRotation(f) {
			if rotations[n-1].ext == "" && f.ext != "" {
				rotations[n-1], f = f, rotations[n-1]
			}
			leftovers = append(leftovers, f)
			continue
		}
		rotations = append(rotations, f)
	}
	return rotations, leftovers
}

// mergeRotations merges disk's rotations into mem's (both in rotation
// order). For a rotation in both, mem's entry is kept when keepMem says
// so, else disk's (fresher size and time); a rotation only in mem is kept
// when keepMem says so (it may have been created after the listing); a
// rotation only on disk is added, and returned in added too.
func mergeRotations(mem, disk []rotatedFile, keepMem func(rotatedFile) bool) (merged, added []rotatedFile) {
	i, j := 0, 0
	for i < len(mem) || j < len(disk) {
		switch {
		case j == len(disk) || i < len(mem) && mem[i].before(disk[j]):
			if keepMem(mem[i]) {
				merged = append(merged, mem[i])
			}
			i++
		case i == len(mem) || disk[j].before(mem[i]):
			merged = append(merged, disk[j])
			added = append(added, disk[j])
			j++
		default: // the same rotation
			if keepMem(mem[i]) {
				merged = append(merged, mem[i])
			} else {
				merged = append(merged, disk[j])
			}
			i++
			j++
		}
	}
	return merged, added
}

// sweepItem is one known path as the sweep saw it.
type sweepItem struct {
	path    string
	open    bool
	rotated []rotatedFile
	live    int64 // size of the live file when closed; 0 when gone
}

// sweep, every retentionSweepEvery, reconciles the accounting of every
// known path with its directory (files removed or touched by other
// tools), applies retention (max_age included), and forgets paths with
// nothing left. Each directory is read once, outside e.mu; what the
// exporter changed meanwhile (generation after the snapshot) is kept as
// it is. A concurrent call waits for the sweep in progress, so that what
// was due at now is done when it returns.
func (e *logfileExporter) sweep(now time.Time) {
	e.scanMu.Lock()
	defer e.scanMu.Unlock()
	e.adoptPendingScanning() // so that the sweep sees every known path
	e.mu.Lock()
	if e.closed || now.Sub(e.lastSwep) < retentionSweepEvery && !now.Before(e.lastSwep) {
		e.mu.Unlock()
		return
	}
	e.lastSwep = now
	snapshot := e.gen
	items := make([]sweepItem, 0, len(e.accts))
	for p, a := range e.accts {
		if a.adopted {
			items = append(items, sweepItem{path: p, open: a.file != nil})
		}
	}
	e.mu.Unlock()

	listings := make(map[string]dirListing)
	for i := range items {
		it := &items[i]
		dir := dirOf(it.path)
		l, ok := listings[dir]
		if !ok {
			l = listDir(dir)
			listings[dir] = l
		}
		for _, f := range l.filesOf(it.path) {
			if !f.tmp {
				it.rotated = append(it.rotated, f)
			}
		}
		it.rotated, _ = oneFilePerRotation(it.rotated)
		if !it.open {
			if st, err := os.Lstat(it.path); err == nil && st.Mode().IsRegular() {
				it.live = st.Size()
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				it.live = -1 // unknown: leave the count as it is
			}
		}
	}
	e.listings = listings // directories of forgotten paths drop out

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	fresh := func(f rotatedFile) bool { return f.gen > snapshot }
	for _, it := range items {
		a := e.accts[it.path]
		if a == nil {
			continue
		}
		merged, _ := mergeRotations(a.rotated, it.rotated, fresh)
		e.setRotated(a, merged)
		if !it.open && a.file == nil && a.touched <= snapshot && it.live >= 0 {
			e.setActive(a, it.live)
		}
		e.applyRetention(a, now)
	}
	e.forgetUnusedDirs()
}
