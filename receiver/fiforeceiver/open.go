package fiforeceiver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/fileperm"
	"github.com/otelcol-logx/otelcol-logx/internal/sdactivation"
)

// openedFIFO is the FIFO's read end as the receiver got it.
type openedFIFO struct {
	file     *os.File
	handle   *sdactivation.Handle // the registry's hold, released at shutdown; nil if not kept
	readOnly bool
}

// openFIFO returns the read end of the configured FIFO: the one the
// service manager passed or a reload left open, when held; else the FIFO
// at path, adopted as it is when it exists, created when it does not.
func (r *fifoReceiver) openFIFO(mode os.FileMode) (*openedFIFO, error) {
	path := r.cfg.Path
	if h := sdactivation.Acquire(sdactivation.FIFO, path); h != nil {
		f, err := h.File()
		if err != nil {
			h.Release()
			return nil, fmt.Errorf("fifo: %s: %w", path, err)
		}
		r.set.Logger.Info("fifo: reading the FIFO "+h.Describe(), zap.String("path", path))
		return &openedFIFO{file: f, handle: h, readOnly: isReadOnly(f)}, nil
	}
	created, err := ensureFIFO(path, uint32(mode))
	if err != nil {
		return nil, err
	}
	if created {
		afterMkfifo(path)
	}
	// From here on the FIFO is reached through one descriptor of the file
	// that was checked: a symbolic link or another file put at the path
	// after the check is neither followed nor changed.
	pathFD, err := fileperm.OpenNoFollow(path, unix.S_IFIFO)
	if err != nil {
		return nil, fmt.Errorf("fifo: %w", err)
	}
	defer unix.Close(pathFD)
	if created {
		if err := fileperm.ApplyOwnershipFd(pathFD, mode, r.cfg.Owner, r.cfg.Group); err != nil {
			return nil, fmt.Errorf("fifo: %s: %w", path, err)
		}
		if !stillAt(pathFD, path) {
			return nil, fmt.Errorf("fifo: %s was replaced while its permissions were set; refused: make its directory writable only by the collector", path)
		}
		r.set.Logger.Info("fifo: created the FIFO", zap.String("path", path), zap.String("mode", fmt.Sprintf("%04o", mode)))
	} else {
		r.logAdopted(pathFD, path, mode)
	}
	o, err := openFD(pathFD, path)
	if err != nil {
		return nil, err
	}
	if o.readOnly {
		r.set.Logger.Warn("fifo: the FIFO is readable but not writable by the collector, so it is read-only: while no program has it open for writing the receiver looks at it every 50 ms, and lines written across a restart are lost; give the collector write access too (e.g. its group and mode 0660)", zap.String("path", path))
	}
	// Kept by the registry, an in-process reload finds the same read end:
	// the pipe never goes without a reader, writers never get EPIPE.
	if h, err := sdactivation.Keep(sdactivation.FIFO, path, o.file, nil); err != nil {
		r.set.Logger.Warn("fifo: the FIFO will not be kept open across a reload: "+err.Error(), zap.String("path", path))
	} else {
		o.handle = h
	}
	return o, nil
}

// afterMkfifo runs between making the FIFO and applying its permissions;
// tests put a file in its place there.
var afterMkfifo = func(string) {}

// stillAt reports whether path, not following a link, names the file fd
// refers to.
func stillAt(fd int, path string) bool {
	var byFD, byName unix.Stat_t
	if unix.Fstat(fd, &byFD) != nil || unix.Fstatat(unix.AT_FDCWD, path, &byName, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return false
	}
	return byFD.Dev == byName.Dev && byFD.Ino == byName.Ino
}

// openPath opens the FIFO at path, refusing a symbolic link or anything
// else that is not a FIFO, as openFD does.
func openPath(path string) (*openedFIFO, error) {
	pathFD, err := fileperm.OpenNoFollow(path, unix.S_IFIFO)
	if err != nil {
		return nil, fmt.Errorf("fifo: %w", err)
	}
	defer unix.Close(pathFD)
	return openFD(pathFD, path)
}

// openFD opens the FIFO that pathFD (an O_PATH descriptor) refers to
// read-write: the receiver is itself a writer, so the pipe never sees its
// last writer go (no EOF, no spinning on it when writers come and go), and
// opening does not wait for a first writer. It is reopened through
// /proc/self/fd, which reaches that very file, not whatever the path
// names by now. os.OpenFile puts the pipe in non-blocking mode under the
// runtime poller, so a deadline or Close ends a pending read. A FIFO the
// collector may read but not write is opened read-only, non-blocking (no
// wait for a writer); one it cannot read is refused.
func openFD(pathFD int, path string) (*openedFIFO, error) {
	self := "/proc/self/fd/" + strconv.Itoa(pathFD)
	f, err := os.OpenFile(self, os.O_RDWR, 0)
	if err == nil {
		return &openedFIFO{file: f}, nil
	}
	if !errors.Is(err, os.ErrPermission) {
		return nil, fmt.Errorf("fifo: %s: %w", path, err)
	}
	f, rerr := os.OpenFile(self, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if rerr != nil {
		return nil, fmt.Errorf("fifo: %s cannot be opened for reading by the collector (uid %d): %w; %s",
			path, os.Geteuid(), rerr, describeOwner(pathFD))
	}
	return &openedFIFO{file: f, readOnly: true}, nil
}

// logAdopted says that an existing FIFO is used as it is: its mode, owner
// and group are left alone (another daemon may own it, or the file system
// be read-only to us), with a warning when they differ from the config.
func (r *fifoReceiver) logAdopted(pathFD int, path string, mode os.FileMode) {
	var st unix.Stat_t
	if err := unix.Fstat(pathFD, &st); err != nil {
		return
	}
	have := os.FileMode(st.Mode & 0o777)
	r.set.Logger.Info("fifo: adopted the existing FIFO as it is (mode, owner and group unchanged)",
		zap.String("path", path), zap.Uint32("uid", st.Uid), zap.Uint32("gid", st.Gid), zap.String("mode", fmt.Sprintf("%04o", have)))
	if have != mode {
		r.set.Logger.Warn(fmt.Sprintf("fifo: the existing FIFO has mode %04o, not the configured %04o; mode, owner and group apply only to a FIFO the receiver creates: change it with chmod, or remove it so that the receiver makes it", have, mode),
			zap.String("path", path))
	}
}

func describeOwner(pathFD int) string {
	var st unix.Stat_t
	if err := unix.Fstat(pathFD, &st); err != nil {
		return "check its permissions"
	}
	return fmt.Sprintf("it is owned by uid %d gid %d with mode %04o: give the collector's user read access (e.g. a group with mode 0660) or configure another path", st.Uid, st.Gid, st.Mode&0o777)
}

// ensureFIFO creates the FIFO if missing, and refuses anything else there.
// It reports whether it created it.
func ensureFIFO(path string, mode uint32) (bool, error) {
	fi, err := os.Lstat(path)
	if err == nil {
		if fi.Mode()&os.ModeSymlink != 0 {
			return false, fmt.Errorf("fifo: %s is a symbolic link: refused, it is never followed; configure the real path, or remove the link", path)
		}
		if fi.Mode()&os.ModeNamedPipe == 0 {
			return false, fmt.Errorf("fifo: %s exists and is not a FIFO; remove it or choose another path", path)
		}
		return false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("fifo: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { //nolint:gosec // G301: writers of other users must reach the FIFO; its own mode guards it
		return false, fmt.Errorf("fifo: %w", err)
	}
	if err := syscall.Mkfifo(path, mode); err != nil {
		if errors.Is(err, os.ErrExist) {
			return ensureFIFO(path, mode) // made meanwhile by someone else
		}
		return false, fmt.Errorf("fifo: mkfifo %s: %w", path, err)
	}
	return true, nil
}

// isReadOnly reports whether f was opened read-only: then the pipe may
// lose its last writer, and end-of-file only means that none is there now.
func isReadOnly(f *os.File) bool {
	raw, err := f.SyscallConn()
	if err != nil {
		return false
	}
	ro := false
	_ = raw.Control(func(fd uintptr) {
		fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		ro = err == nil && fl&unix.O_ACCMODE == unix.O_RDONLY
	})
	return ro
}
