package logfileexporter

import (
	"os"
	"syscall"
	"time"
)

// logFile is one open output file with its write buffer. It is used under
// the exporter's lock only.
type logFile struct {
	path string
	f    *os.File
	// dev and ino identify the file we opened, to notice that the path
	// now names another file (or none): logrotate moved it.
	dev, ino uint64
	buf      []byte // pending bytes; cap is flush.buffer_bytes
	bufRecs  int    // records in buf, counted as dropped if its write fails
	size     int64  // bytes in the file, buf included
	unsynced int64  // bytes written since the last fsync
	// nextRotate is the next time-rotation boundary; zero without one.
	nextRotate time.Time
	lastFlush  time.Time
	lastSync   time.Time
	acct       *pathAcct // never nil while the file is open
	dir        *dirState
}

// append buffers one line; the caller has checked rotation and the disk
// guard. A line longer than the buffer is written directly.
func (f *logFile) append(p []byte) error {
	if len(f.buf)+len(p) > cap(f.buf) {
		if err := f.flush(); err != nil {
			return err
		}
	}
	if len(p) > cap(f.buf) {
		if _, err := f.f.Write(p); err != nil {
			return err
		}
	} else {
		f.buf = append(f.buf, p...)
		f.bufRecs++
	}
	n := int64(len(p))
	f.size += n
	f.unsynced += n
	f.acct.active += n
	f.dir.written += n
	return nil
}

// flush writes the buffer. On error the buffer is discarded (its records
// are reported by the caller as dropped): a full or failing disk must not
// make the buffer, or the retries, grow.
func (f *logFile) flush() error {
	if len(f.buf) == 0 {
		return nil
	}
	_, err := f.f.Write(f.buf)
	f.buf = f.buf[:0]
	f.bufRecs = 0
	return err
}

// pendingRecords is how many buffered records a failed flush loses.
func (f *logFile) pendingRecords() int { return f.bufRecs }

func (f *logFile) sync(now time.Time) error {
	f.lastSync = now
	if f.unsynced == 0 {
		return nil
	}
	f.unsynced = 0
	return f.f.Sync()
}

// movedAway reports whether the path no longer names the file we hold
// (a link put in its place included: it is not followed).
func (f *logFile) movedAway() bool {
	var st syscall.Stat_t
	if err := syscall.Lstat(f.path, &st); err != nil {
		return true
	}
	return uint64(st.Dev) != f.dev || st.Ino != f.ino
}

func fileID(fd *os.File) (dev, ino uint64, size int64, err error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(fd.Fd()), &st); err != nil {
		return 0, 0, 0, err
	}
	return uint64(st.Dev), st.Ino, st.Size, nil
}
