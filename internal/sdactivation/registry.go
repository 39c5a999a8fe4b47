package sdactivation

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// entry is one descriptor the registry holds.
type entry struct {
	fd        int
	kind      Kind
	path      string // the path it was created at (own descriptors)
	name      string // FileDescriptorName= (inherited descriptors)
	inherited bool
	inUse     bool
	file      fileID      // own sockets: the socket file it made
	writer    int         // a write end held for a read-only inherited FIFO, or -1
	expire    *time.Timer // running while an own descriptor is parked
	cleanup   func()      // runs when an own descriptor is closed
}

var reg struct {
	once    sync.Once
	mu      sync.Mutex
	entries []*entry
	// exiting is set once the process was told to stop: nothing is
	// parked any more, no reload will come.
	exiting   bool
	watchOnce sync.Once
}

// load reads the passed descriptors once per process.
func load() {
	reg.once.Do(func() {
		fds, _ := listenFDs(os.Getenv, os.Getpid())
		for _, in := range fds {
			reg.entries = append(reg.entries, &entry{fd: in.fd, kind: kindOf(in.fd), name: in.name, inherited: true, writer: -1})
		}
	})
}

// Handle is a receiver's hold on a descriptor of the registry.
type Handle struct {
	e        *entry
	released bool
}

// Inherited reports whether the descriptor came from the service manager.
func (h *Handle) Inherited() bool { return h.e.inherited }

// Describe says where the descriptor came from, for a log line.
func (h *Handle) Describe() string {
	if h.e.inherited {
		return fmt.Sprintf("inherited from the service manager (fd %d, name %q)", h.e.fd, h.e.name)
	}
	return "kept open across a reload by this process"
}

// File returns a new duplicate of the descriptor, close-on-exec and
// non-blocking so that the Go runtime polls it (Close and deadlines end a
// pending read). The caller owns it and closes it; the registry's own
// descriptor stays open.
func (h *Handle) File() (*os.File, error) {
	fd, err := unix.FcntlInt(uintptr(h.e.fd), unix.F_DUPFD_CLOEXEC, firstFD)
	if err != nil {
		return nil, fmt.Errorf("dup fd %d: %w", h.e.fd, err)
	}
	// O_NONBLOCK belongs to the open file, shared with every duplicate:
	// no one else reads this one.
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), h.e.path), nil
}

// Release hands the descriptor back: an inherited one waits for the next
// receiver of its path, an own one for ParkFor, then it is closed.
func (h *Handle) Release() {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if h.released {
		return
	}
	h.released = true
	e := h.e
	e.inUse = false
	if e.inherited {
		return
	}
	if reg.exiting {
		removeLocked(e)
		closeEntry(e)
		return
	}
	e.expire = time.AfterFunc(parkFor, func() { expire(e) })
}

func removeLocked(e *entry) bool {
	for i, x := range reg.entries {
		if x == e {
			reg.entries = append(reg.entries[:i], reg.entries[i+1:]...)
			return true
		}
	}
	return false
}

func closeEntry(e *entry) {
	_ = unix.Close(e.fd)
	if e.writer >= 0 {
		_ = unix.Close(e.writer)
	}
	if e.cleanup != nil {
		e.cleanup()
	}
}

// Acquire returns the descriptor of the kind at path that is held and not
// in use, or nil: first one the service manager passed (matched as
// sd_is_fifo / sd_is_socket_unix do), else one this process created
// earlier and parked. A parked one whose path now names another file is
// closed: writers opening the path could no longer reach it.
func Acquire(kind Kind, path string) *Handle {
	load()
	reg.mu.Lock()
	var stale []*entry
	defer func() {
		for _, e := range stale {
			removeLocked(e)
		}
		reg.mu.Unlock()
		for _, e := range stale {
			closeEntry(e)
		}
	}()
	for _, inheritedPass := range []bool{true, false} {
		for _, e := range reg.entries {
			if e.inUse || e.inherited != inheritedPass || e.kind != kind {
				continue
			}
			if !matches(e, kind, path) {
				if !e.inherited && samePath(e.path, path) {
					stale = append(stale, e)
				}
				continue
			}
			if e.expire != nil {
				e.expire.Stop()
				e.expire = nil
			}
			if kind == FIFO {
				keepWriter(e)
			}
			e.inUse = true
			return &Handle{e: e}
		}
	}
	return nil
}

func matches(e *entry, kind Kind, path string) bool {
	if kind == FIFO {
		return isFIFOAt(e.fd, path)
	}
	if !isUnixSocketAt(e.fd, kind, path) {
		return false
	}
	if e.inherited {
		return true
	}
	id, ok := statID(path)
	return ok && id == e.file
}

// keepWriter makes sure the pipe always has a writer: a FIFO opened
// read-only sees end-of-file each time its last writer closes, and its
// reader would spin or stop. systemd opens ListenFIFO= read-write, which
// needs nothing; for a read-only one a write end is opened once and held
// with it.
func keepWriter(e *entry) {
	if e.writer >= 0 {
		return
	}
	fl, err := unix.FcntlInt(uintptr(e.fd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_ACCMODE != unix.O_RDONLY {
		return
	}
	// Through /proc the same pipe is opened again, whatever its path now.
	w, err := unix.Open("/proc/self/fd/"+strconv.Itoa(e.fd), unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err == nil {
		e.writer = w
	}
}
