package journalfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// watcher is an inotify watch on a journal directory. journald writes
// through a shared mapping, which inotify does not see, so after each write
// it truncates the file to its own size to make an IN_MODIFY; rotation
// renames and creates files. The inotify descriptor is non-blocking and
// read through the runtime's poller, so waiting costs no thread and no
// wakeups while the journal is idle.
type watcher struct {
	f *os.File
}

const watchMask = unix.IN_MODIFY | unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM |
	unix.IN_DELETE | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE

func newWatcher(dir string) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, watchMask); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("inotify watch %s: %w", dir, err)
	}
	return &watcher{f: os.NewFile(uintptr(fd), "inotify:"+dir)}, nil
}

// wait blocks until at least one event arrived (and drains what is
// queued), the deadline passes or ctx ends.
func (w *watcher) wait(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := w.f.SetReadDeadline(deadline); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = w.f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var buf [4096]byte
	_, err := w.f.Read(buf[:])
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return nil // timed out: the caller refreshes anyway
	}
	return err
}

func (w *watcher) close() error { return w.f.Close() }

// Wait blocks until something in the directory changed (a file was
// written, created, renamed or removed), timeout passed or ctx ended; then
// Refresh and Next. The timeout is a safety net for changes inotify does
// not report (a writer on another host of a network file system); on an
// idle journal the wait costs nothing until then. The first call only sets
// up the watch and returns at once: what changed before it is then found
// by the Refresh that follows.
func (d *Dir) Wait(ctx context.Context, timeout time.Duration) error {
	if d.watch == nil {
		w, err := newWatcher(d.path)
		if err != nil {
			return err
		}
		d.watch = w
		return nil
	}
	return d.watch.wait(ctx, timeout)
}
