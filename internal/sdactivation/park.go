package sdactivation

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ParkFor is how long a descriptor that a receiver created itself stays
// open after that receiver shut down, waiting for the receiver an
// in-process reload makes for the same path. Long enough for a reload to
// build the new pipelines; short enough that a FIFO dropped from the
// configuration does not keep a reader that never reads (writers would
// block once its pipe is full). Inherited descriptors are never closed.
const ParkFor = 10 * time.Second

// parkFor is ParkFor, shortened by SetParkFor (under reg.mu).
var parkFor = ParkFor

// SetParkFor changes how long own descriptors stay parked, and returns a
// function that restores the previous value: tests use it to watch a
// parked socket file go without waiting ParkFor.
func SetParkFor(d time.Duration) (restore func()) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	old := parkFor
	parkFor = d
	return func() {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		parkFor = old
	}
}

// watchExit closes the parked own descriptors as soon as the process is
// told to stop (SIGTERM, SIGINT: the collector then shuts down and exits,
// SIGHUP reloads), so that a stop removes the socket files it made, as it
// did before descriptors were parked. Notify adds a listener; the
// collector's own handling of these signals is unchanged.
func watchExit() {
	reg.watchOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		go closeParkedOnExit(ch)
	})
}

// closeParkedOnExit waits, for the life of the process, for a stop signal.
// A named function: tests that check for leaked goroutines ignore this
// one by name (it is meant to outlive every receiver).
func closeParkedOnExit(ch <-chan os.Signal) {
	<-ch
	closeParked()
}

// closeParked closes every parked own descriptor now, and every one
// released from now on.
func closeParked() {
	reg.mu.Lock()
	reg.exiting = true
	var parked []*entry
	for _, e := range reg.entries {
		if !e.inherited && !e.inUse {
			parked = append(parked, e)
		}
	}
	for _, e := range parked {
		if e.expire != nil {
			e.expire.Stop()
		}
		removeLocked(e)
	}
	reg.mu.Unlock()
	for _, e := range parked {
		closeEntry(e)
	}
}

// expire closes a parked own descriptor nobody took back.
func expire(e *entry) {
	reg.mu.Lock()
	if e.inUse || !removeLocked(e) {
		reg.mu.Unlock()
		return
	}
	reg.mu.Unlock()
	closeEntry(e)
}

// Keep registers a descriptor a receiver created itself at path, so that
// a later receiver of the same path (after an in-process reload) gets it
// back from Acquire. The registry takes a duplicate of conn's descriptor;
// the caller keeps conn and closes it as usual. cleanup, if set, runs
// when the registry finally closes its duplicate (a socket file to remove).
func Keep(kind Kind, path string, conn syscall.Conn, cleanup func()) (*Handle, error) {
	load()
	watchExit()
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, firstFD)
	}); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, dupErr
	}
	e := &entry{fd: fd, kind: kind, path: path, inUse: true, writer: -1, cleanup: cleanup}
	if kind != FIFO {
		e.file, _ = statID(path)
	}
	reg.mu.Lock()
	reg.entries = append(reg.entries, e)
	reg.mu.Unlock()
	return &Handle{e: e}, nil
}

// SocketFileID returns a function that reports whether path still names
// the socket file it names now: a socket file is removed only if it is
// still the one this process made.
func SocketFileID(path string) func() bool {
	id, ok := statID(path)
	return func() bool {
		now, ok2 := statID(path)
		return ok && ok2 && now == id
	}
}
