package logfileexporter

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Rotated files are named "<path>.<stamp>[-<n>][.gz|.zst]", the stamp
// being the rotation time as 20060102T150405 (UTC, or local time with
// rotation.local_time), and n telling apart rotations within one second.
const stampLayout = "20060102T150405"

var (
	removedMaxBackups = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "max_backups")))
	removedMaxAge     = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "max_age")))
)

func dirOf(path string) string { return filepath.Dir(path) }

// nextBoundary is the first multiple of rotation.interval after now,
// counted from midnight UTC (or local midnight with local_time), so that
// "24h" rotates at midnight and "1h" on the hour.
func (e *logfileExporter) nextBoundary(now time.Time) time.Time {
	iv := int64(e.cfg.Rotation.Interval)
	var off int64
	if e.cfg.Rotation.LocalTime {
		_, o := now.Zone()
		off = int64(o) * int64(time.Second)
	}
	ns := now.UnixNano() + off
	next := (ns/iv + 1) * iv
	return time.Unix(0, next-off)
}

// rotate renames f's file aside and reopens its path, then schedules
// compression and applies retention. On failure the file keeps being
// written where it is; f.f is nil only if even reopening failed.
func (e *logfileExporter) rotate(f *logFile, now time.Time) {
	e.flushFile(f, now)
	if e.cfg.Flush.SyncEveryBytes > 0 || e.cfg.Flush.SyncInterval > 0 {
		_ = f.sync(now)
	}
	if e.cfg.Rotation.Interval > 0 {
		f.nextRotate = e.nextBoundary(now)
	}
	rotated := e.rotatedName(f.path, now)
	if err := os.Rename(f.path, rotated); err != nil {
		e.warn(now, "rotation failed; writing on", f.path, err)
		return
	}
	e.tel.Rotations.Add(context.Background(), 1)
	_ = f.f.Close()
	f.f = nil
	f.acct.rotated += f.acct.active
	f.acct.active = 0
	f.size = 0
	f.unsynced = 0
	fd, err := e.perms.openFile(f.path)
	if err == nil {
		var size int64
		f.dev, f.ino, size, err = fileID(fd)
		if err != nil {
			_ = fd.Close()
		} else {
			f.f = fd
			f.size = size
			f.acct.active = size
			e.total += size
		}
	}
	if err != nil {
		e.warn(now, "reopen after rotation failed", f.path, err)
		_ = e.closeFile(f, now)
	}
	e.compress.enqueue(rotated, f.path)
	e.applyRetention(f.path, now)
}

// rotatedName returns a name for the file rotated at now that no file
// (compressed or not) has yet.
func (e *logfileExporter) rotatedName(path string, now time.Time) string {
	t := now.UTC()
	if e.cfg.Rotation.LocalTime {
		t = now.Local()
	}
	base := path + "." + t.Format(stampLayout)
	name := base
	for n := 1; ; n++ {
		if !exists(name) && !exists(name+".gz") && !exists(name+".zst") {
			return name
		}
		name = base + "-" + strconv.Itoa(n)
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// rotatedFile is one rotated sibling of a path.
type rotatedFile struct {
	name  string
	stamp string
	seq   int
	ext   string // "", ".gz", ".zst"
	tmp   bool   // an unfinished compression
	size  int64
	mtime time.Time
}

// listRotated returns path's rotated siblings, oldest first.
func listRotated(path string) []rotatedFile {
	entries, err := os.ReadDir(dirOf(path))
	if err != nil {
		return nil
	}
	return rotatedIn(path, entries)
}

// rotatedIn picks path's rotated siblings out of its directory's entries.
func rotatedIn(path string, entries []os.DirEntry) []rotatedFile {
	dir, base := filepath.Split(path)
	var out []rotatedFile
	for _, ent := range entries {
		rest, ok := strings.CutPrefix(ent.Name(), base+".")
		if !ok || !ent.Type().IsRegular() {
			continue
		}
		r, ok := parseRotated(rest)
		if !ok {
			continue
		}
		info, err := ent.Info()
		if err != nil {
			continue
		}
		r.name, r.size, r.mtime = filepath.Join(dir, ent.Name()), info.Size(), info.ModTime()
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].stamp != out[j].stamp {
			return out[i].stamp < out[j].stamp
		}
		return out[i].seq < out[j].seq
	})
	return out
}

// parseRotated reads "<stamp>[-<n>][.gz|.zst][.tmp]".
func parseRotated(s string) (rotatedFile, bool) {
	var r rotatedFile
	s, r.tmp = strings.CutSuffix(s, ".tmp")
	for _, ext := range []string{".gz", ".zst"} {
		if t, ok := strings.CutSuffix(s, ext); ok {
			s, r.ext = t, ext
			break
		}
	}
	if len(s) < len(stampLayout) {
		return r, false
	}
	r.stamp = s[:len(stampLayout)]
	if _, err := time.Parse(stampLayout, r.stamp); err != nil {
		return r, false
	}
	if seq := s[len(stampLayout):]; seq != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(seq, "-"))
		if err != nil || seq[0] != '-' || n <= 0 {
			return r, false
		}
		r.seq = n
	}
	if r.tmp && r.ext == "" {
		return r, false
	}
	return r, true
}

// adoptRotated runs the first time a path is opened: it counts rotated
// files from earlier runs, removes unfinished compressions, schedules
// the uncompressed ones, and applies retention.
func (e *logfileExporter) adoptRotated(path string, now time.Time) {
	for _, r := range listRotated(path) {
		switch {
		case r.tmp:
			if e.compress.inProgress == "" || !strings.HasPrefix(r.name, e.compress.inProgress) {
				_ = os.Remove(r.name)
			}
		case r.ext == "" && e.compress.ext != "":
			e.compress.enqueue(r.name, path)
		}
	}
	e.applyRetention(path, now)
}

// applyRetention removes rotated files beyond rotation.max_backups and
// older than rotation.max_age, and recounts the path's rotated bytes.
func (e *logfileExporter) applyRetention(path string, now time.Time) {
	e.applyRetentionTo(path, listRotated(path), now)
}

// sweepRetention applies retention to every path written since start,
// reading each directory once (many paths usually share one).
func (e *logfileExporter) sweepRetention(now time.Time) {
	byDir := map[string][]os.DirEntry{}
	for path := range e.accts {
		dir := dirOf(path)
		entries, ok := byDir[dir]
		if !ok {
			entries, _ = os.ReadDir(dir)
			byDir[dir] = entries
		}
		e.applyRetentionTo(path, rotatedIn(path, entries), now)
	}
}

func (e *logfileExporter) applyRetentionTo(path string, files []rotatedFile, now time.Time) {
	acct := e.accts[path]
	if acct == nil {
		return
	}
	r := e.cfg.Rotation
	// Count rotations, not files: "x.<stamp>" and its "x.<stamp>.gz"
	// during compression are one backup. files is sorted by rotation.
	rotations := 0
	for i, f := range files {
		if i == 0 || f.stamp != files[i-1].stamp || f.seq != files[i-1].seq {
			rotations++
		}
	}
	excess := 0
	if r.MaxBackups > 0 && rotations > r.MaxBackups {
		excess = rotations - r.MaxBackups
	}
	var kept int64
	ordinal := -1
	for i, f := range files {
		if i == 0 || f.stamp != files[i-1].stamp || f.seq != files[i-1].seq {
			ordinal++
		}
		if f.tmp {
			kept += f.size // being written by the compressor
			continue
		}
		switch {
		case ordinal < excess:
			if os.Remove(f.name) == nil {
				e.tel.RemovedFiles.Add(context.Background(), 1, removedMaxBackups)
				continue
			}
		case r.MaxAge > 0 && now.Sub(f.mtime) > r.MaxAge:
			if os.Remove(f.name) == nil {
				e.tel.RemovedFiles.Add(context.Background(), 1, removedMaxAge)
				continue
			}
		}
		kept += f.size
	}
	e.total += kept - acct.rotated
	acct.rotated = kept
}
