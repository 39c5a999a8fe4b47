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
	return onPipe(f, func(fd uintptr) (int, error) {
		cur, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0)
		if err == nil && cur >= size {
			return cur, nil
		}
		got, err := unix.FcntlInt(fd, unix.F_SETPIPE_SZ, size)
		if errors.Is(err, unix.EPERM) {
			if limit, ok := readPipeMax(); ok && limit < size && limit > cur {
				got, err = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, limit)
			}
		}
		return got, err
	})
}

// pipeSize returns the bytes the pipe holds before a writer waits.
func pipeSize(f *os.File) (int, error) {
	return onPipe(f, func(fd uintptr) (int, error) {
		return unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0)
	})
}

// onPipe runs op on the pipe's descriptor, which f keeps open meanwhile.
func onPipe(f *os.File, op func(fd uintptr) (int, error)) (int, error) {
	raw, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	n := 0
	var opErr error
	if err := raw.Control(func(fd uintptr) { n, opErr = op(fd) }); err != nil {
		return 0, err
	}
	return n, opErr
}

func readPipeMax() (int, bool) {
	b, err := os.ReadFile(pipeMaxSize)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return n, err == nil
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
