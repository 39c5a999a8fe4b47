package journalfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	f  *os.File
	fd int // f's descriptor: f.Fd() would make it blocking, and deadlines stop working
}

const watchMask = unix.IN_MODIFY | unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM |
	unix.IN_DELETE | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE

func newWatcher(dirs []string) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	w := &watcher{f: os.NewFile(uintptr(fd), "inotify"), fd: fd}
	for _, dir := range dirs {
		if err := w.add(dir); err != nil {
			_ = w.close()
			return nil, err
		}
	}
	return w, nil
}

// add watches one more directory.
func (w *watcher) add(dir string) error {
	if _, err := unix.InotifyAddWatch(w.fd, dir, watchMask); err != nil {
		return fmt.Errorf("inotify watch %s: %w", dir, err)
	}
	return nil
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
		w, err := newWatcher(d.watchDirs())
		if err != nil {
			return err
		}
		d.watch = w
		return nil
	}
	return d.watch.wait(ctx, timeout)
}

// watchDirs are the directories whose changes Wait waits for: those
// scanned (roots that exist, subdirectories), or the files' directories.
func (d *Dir) watchDirs() []string {
	seen := map[string]bool{}
	var out []string
	addDir := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range d.src.Files {
		addDir(filepath.Dir(p))
	}
	for p := range d.dirs {
		if _, err := os.Stat(p); err == nil {
			addDir(p)
		}
	}
	return out
}
