package fiforeceiver

import (
	"errors"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
)

// pipeMaxSize is where the kernel says how large an unprivileged process
// may make a pipe.
const pipeMaxSize = "/proc/sys/fs/pipe-max-size"

// setPipeSize makes the pipe hold at least size bytes, and returns the
// size it has. A pipe already as large (the service manager's PipeSize=,
// or this receiver before a reload) is left alone: shrinking could fail
// on the data it holds. Without the privilege to go beyond
// pipe-max-size, the pipe gets that maximum.
func setPipeSize(f *os.File, size int) (int, error) {
	raw, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	got := 0
	var opErr error
	if err := raw.Control(func(fd uintptr) {
		cur, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0)
		if err == nil && cur >= size {
			got = cur
			return
		}
		got, opErr = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, size)
		if errors.Is(opErr, unix.EPERM) {
			if limit, ok := readPipeMax(); ok && limit < size && limit > cur {
				got, opErr = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, limit)
			}
		}
	}); err != nil {
		return 0, err
	}
	return got, opErr
}

func readPipeMax() (int, bool) {
	b, err := os.ReadFile(pipeMaxSize)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return n, err == nil
}

// pipeSize returns the bytes the pipe holds before a writer waits.
func pipeSize(f *os.File) (int, error) {
	raw, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	size := 0
	var opErr error
	if err := raw.Control(func(fd uintptr) {
		size, opErr = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0)
	}); err != nil {
		return 0, err
	}
	return size, opErr
}

// pipePace paces the reader of a pipe of size bytes. A pipe merges small
// writes into its pages, so what a writer may have in flight is bytes,
// not writes: a pause lets at most a quarter of the pipe gather, and a
// pipe of unknown size (0) is taken for the kernel's 64 KiB.
func pipePace(size int) ingest.PaceSettings {
	if size <= 0 {
		size = 64 << 10
	}
	pace := ingest.DefaultPace
	pace.Writes = size // more writes than bytes cannot gather
	pace.Bytes = size / 4
	return pace
}
