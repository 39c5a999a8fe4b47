package logfileexporter

import (
	"context"
	"errors"
	"io/fs"
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
	r := e.rotatedName(f.path, now)
	if err := os.Rename(f.path, r.name); err != nil {
		e.warn(now, "rotation failed; writing on", f.path, err)
		return
	}
	e.tel.LogxLogfileRotations.Add(context.Background(), 1)
	_ = f.f.Close()
	f.f = nil
	a := f.acct
	r.size, r.mtime, r.gen = a.active, now, e.nextGen()
	e.setRotated(a, insertRotation(a.rotated, r))
	e.setActive(a, 0)
	f.size = 0
	f.unsynced = 0
	fd, err := e.perms.openFile(a.root, f.path)
	if err == nil {
		var size int64
		f.dev, f.ino, size, err = fileID(fd)
		if err != nil {
			_ = fd.Close()
		} else {
			f.f = fd
			f.size = size
			e.setActive(a, size)
		}
	}
	if err != nil {
		e.warn(now, "reopen after rotation failed", f.path, err)
		_ = e.closeFile(f, now)
	}
	e.compress.enqueue(r.name, f.path)
	e.applyRetention(a, now)
}

// insertRotation adds r to files in rotation order (a clock set back may
// make it older than the newest).
func insertRotation(files []rotatedFile, r rotatedFile) []rotatedFile {
	i := sort.Search(len(files), func(i int) bool { return r.before(files[i]) })
	out := make([]rotatedFile, 0, len(files)+1)
	out = append(out, files[:i]...)
	out = append(out, r)
	return append(out, files[i:]...)
}

// rotatedName returns a name for the file rotated at now that no file
// (compressed or not) has yet, with its stamp and sequence number.
func (e *logfileExporter) rotatedName(path string, now time.Time) rotatedFile {
	t := now.UTC()
	if e.cfg.Rotation.LocalTime {
		t = now.Local()
	}
	r := rotatedFile{stamp: t.Format(stampLayout)}
	base := path + "." + r.stamp
	r.name = base
	for n := 1; exists(r.name) || exists(r.name+".gz") || exists(r.name+".zst"); n++ {
		r.name, r.seq = base+"-"+strconv.Itoa(n), n
	}
	return r
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
	// gen is when the exporter itself added or changed the entry (see
	// sweep); 0 for what a directory listing found.
	gen uint64
}

// before orders rotations: by stamp, then sequence number.
func (r rotatedFile) before(o rotatedFile) bool {
	if r.stamp != o.stamp {
		return r.stamp < o.stamp
	}
	return r.seq < o.seq
}

// sameRotation is true for one rotation's files: "x.<stamp>" and its
// "x.<stamp>.gz" during or after compression.
func (r rotatedFile) sameRotation(o rotatedFile) bool {
	return r.stamp == o.stamp && r.seq == o.seq
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

// applyRetention removes rotated files beyond rotation.max_backups and
// older than rotation.max_age (by modification time), from the path's
// list: no directory is read here.
func (e *logfileExporter) applyRetention(a *pathAcct, now time.Time) {
	r := e.cfg.Rotation
	excess := 0
	if r.MaxBackups > 0 && len(a.rotated) > r.MaxBackups {
		excess = len(a.rotated) - r.MaxBackups
	}
	kept := make([]rotatedFile, 0, len(a.rotated)-excess)
	for i, f := range a.rotated {
		reason := removedMaxBackups
		if i >= excess {
			if r.MaxAge == 0 || now.Sub(f.mtime) <= r.MaxAge {
				kept = append(kept, f)
				continue
			}
			reason = removedMaxAge
		}
		switch err := os.Remove(f.name); {
		case err == nil:
			e.tel.LogxLogfileRemovedFiles.Add(context.Background(), 1, reason)
		case errors.Is(err, fs.ErrNotExist):
			// Already gone (another tool): forget it.
		default:
			kept = append(kept, f) // counted until it can be removed
		}
	}
	e.setRotated(a, kept)
	e.maybeForget(a)
}
