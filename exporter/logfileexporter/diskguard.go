package logfileexporter

import (
	"syscall"
	"time"
)

// dirState caches the free space of one directory's file system, so that
// statfs runs once per disk_guard.check_interval, not per record. written
// counts bytes written since, so that the estimate falls as we write.
type dirState struct {
	free      int64
	checkedAt time.Time
	written   int64
	err       error
}

// guard returns the drop reason for writing n more bytes to f, or -1 when
// the write may go ahead.
func (e *logfileExporter) guard(f *logFile, n int, now time.Time) int {
	g := e.cfg.DiskGuard
	if g.MaxTotalBytes > 0 && e.total+int64(n) > g.MaxTotalBytes {
		return dropDiskMaxTotal
	}
	if g.MinFreeBytes > 0 {
		d := f.dir
		if d.checkedAt.IsZero() || now.Sub(d.checkedAt) >= g.CheckInterval || now.Before(d.checkedAt) {
			d.free, d.err = e.statfs(dirOf(f.path))
			d.checkedAt, d.written = now, 0
			if d.err != nil {
				e.warn(now, "statfs failed; free space not checked", f.path, d.err)
			}
		}
		if d.err == nil && d.free-d.written-int64(n) < g.MinFreeBytes {
			return dropDiskMinFree
		}
	}
	return -1
}

// statfsFree returns the bytes available to unprivileged users on dir's
// file system (what df shows as available).
func statfsFree(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil //nolint:unconvert,gosec // G115: free blocks times block size of a real file system, below 2^63; Bsize is uint32 or uint64 elsewhere
}
