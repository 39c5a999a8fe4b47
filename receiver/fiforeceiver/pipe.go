package fiforeceiver

import (
	"errors"
	"io"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// drainReadTimeout bounds a read while draining at shutdown: the bytes
// counted there are already in the pipe, so a read never needs to wait.
const drainReadTimeout = 100 * time.Millisecond

// writerlessPoll is how often a read-only FIFO without writers is looked
// at again: poll(2) reports such a pipe as hung up until a writer opens
// it, so waiting on it would spin.
const writerlessPoll = 50 * time.Millisecond

// pipeReader reads the FIFO for the framing decoder, and ends the stream
// cleanly at shutdown: told to stop (a read deadline in the past wakes a
// pending read), it reads exactly the bytes that were in the pipe at that
// moment, then reports io.EOF. Writes of up to PIPE_BUF bytes are atomic,
// so that mark falls between two writes: no line is cut in two between
// this receiver and the next one of the same pipe (after a restart with
// an inherited FIFO, or a reload), and what writers had written before the
// stop is read and accounted for instead of being left to die with the
// process.
type pipeReader struct {
	f        *os.File
	readOnly bool // the FIFO was opened read-only: EOF means no writer now
	stop     chan struct{}
	stopping atomic.Bool
	draining bool
	budget   int
}

func newPipeReader(f *os.File, readOnly bool) *pipeReader {
	return &pipeReader{f: f, readOnly: readOnly, stop: make(chan struct{})}
}

// Stop makes the reader drain what the pipe holds and end. It is safe to
// call once, from another goroutine.
func (p *pipeReader) Stop() {
	p.stopping.Store(true)
	close(p.stop)
	if err := p.f.SetReadDeadline(time.Now()); err != nil {
		// Not polled by the runtime: only closing ends a pending read.
		_ = p.f.Close()
	}
}

func (p *pipeReader) Read(b []byte) (int, error) {
	for {
		if p.draining {
			return p.drainRead(b)
		}
		n, err := p.f.Read(b)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded) && p.stopping.Load():
			p.startDrain()
			if n > 0 {
				return n, nil
			}
			continue
		case errors.Is(err, io.EOF) && p.readOnly && n == 0:
			if !p.waitForWriter() {
				p.startDrain()
			}
			continue
		}
		return n, err
	}
}

// startDrain counts the bytes now in the pipe (FIONREAD) as what is left
// to read.
func (p *pipeReader) startDrain() {
	p.draining = true
	raw, err := p.f.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		// TIOCINQ is FIONREAD: the bytes a read would get now.
		if n, err := unix.IoctlGetInt(int(fd), unix.TIOCINQ); err == nil {
			p.budget = n
		}
	})
	_ = p.f.SetReadDeadline(time.Now().Add(drainReadTimeout))
}

func (p *pipeReader) drainRead(b []byte) (int, error) {
	if p.budget <= 0 {
		return 0, io.EOF
	}
	if len(b) > p.budget {
		b = b[:p.budget]
	}
	n, err := p.f.Read(b)
	p.budget -= n
	if err != nil && n == 0 {
		return 0, io.EOF // deadline or closed: nothing more will come
	}
	return n, nil
}

// waitForWriter pauses a read-only reader whose pipe has no writer; false
// once stopped.
func (p *pipeReader) waitForWriter() bool {
	t := time.NewTimer(writerlessPoll)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stop:
		return false
	}
}
