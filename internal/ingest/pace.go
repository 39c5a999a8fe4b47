package ingest

import (
	"bytes"
	"io"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/lagsignal"
)

// Pacing reads: a service writes one line per write(2) or datagram, and
// each write wakes the reader for that one line: a scheduler switch and a
// system call or two per line, which at 1k-100k lines/s is most of what a
// line costs the receiver. A Pacer makes a reader that keeps finding few
// lines wait a moment before its next read, so the lines of that moment
// are taken by one read (and handed over as one batch).
//
// How long it waits follows the rate it sees: long enough that a read
// brings about PaceSettings.Writes writes or Bytes bytes, never longer
// than MaxPause, the delay a line may gain. Those bounds keep what
// gathers far below what the source holds before its writers block: a
// writer's socket send buffer (net.core.wmem_default, 208 KiB, about 280
// short lines in flight on a unix socket, whatever the reader's buffer)
// or the datagram queue (net.unix.max_dgram_qlen). A reader whose reads
// fill the buffer they were given (a busy source) never waits, and one
// whose source writes less than twice per MaxPause (a quiet one) does not
// either: its next line would only arrive later than the pause ends, and
// wait for nothing.
//
// The pause does not spare the process's poller: on a unix socket or a
// pipe every write is an epoll event (the kernel ignores SO_RCVLOWAT
// there), so a runtime thread waiting in epoll_wait still wakes per write,
// but the reader does not run, read or hand over a batch until its pause
// ends.

// PaceSettings bound a Pacer.
type PaceSettings struct {
	// MaxPause is the longest wait before a read.
	MaxPause time.Duration
	// Writes and Bytes are what a paced read aims to bring: the pause
	// ends when, at the rate seen, either has gathered.
	Writes int
	Bytes  int
}

// DefaultPace paces the line readers (fifo, unixsocket): a line waits at
// most 5 ms more, and a paced read brings at most some 64 writes or
// 16 KiB, a quarter of what a writer's default socket buffer holds of
// short lines and less of long ones.
var DefaultPace = PaceSettings{MaxPause: 5 * time.Millisecond, Writes: 64, Bytes: 16 << 10}

// minPause is the shortest pause worth a timer: at a rate where a pause
// would be shorter, a read brings enough without one, and the runtime's
// poller sleeps in whole milliseconds, so a shorter pause often lasts a
// millisecond anyway and gathers more than the bounds allow.
const minPause = time.Millisecond

// quietWrites: a source that writes fewer than this many times per
// MaxPause is quiet, and its reader does not wait.
const quietWrites = 2

// Pacer decides when one reader reads. It is used by that reader's
// goroutine alone; what it holds is a few words and, once it has paused,
// a timer.
type Pacer struct {
	set  PaceSettings
	done <-chan struct{}
	// since is when the source was last read empty (a read that did not
	// fill its buffer); writes and bytes are what was read since then.
	since         time.Time
	writes, bytes int
	pause         time.Duration // before the next read; 0: none
	last          time.Duration // what the last interval alone called for
	lag           lagsignal.Run // a backed-up source is said at once
	timer         *time.Timer
	stopped       bool
}

// NewPacer returns a Pacer whose pauses end early, and stop, once done is
// closed (shutdown: the reader then drains without waiting).
func NewPacer(set PaceSettings, done <-chan struct{}) *Pacer {
	return &Pacer{set: set, done: done}
}

// Wait waits the pause the last read called for (none after a read that
// filled its buffer, from a quiet source, or after done closed).
func (p *Pacer) Wait() {
	d := p.pause
	if d <= 0 || p.stopped {
		return
	}
	p.pause = 0
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	select {
	case <-p.timer.C:
	case <-p.done:
		p.timer.Stop()
		p.stopped = true
	}
}

// Read tells the Pacer what a read brought: writes (lines or datagrams),
// bytes, and whether it filled the buffer it was given (more is waiting:
// read again at once).
func (p *Pacer) Read(writes, bytes int, full bool) {
	now := time.Now()
	if p.since.IsZero() {
		p.since = now
	}
	p.writes += writes
	p.bytes += bytes
	p.lag.Read(full)
	if full {
		p.pause = 0
		return
	}
	// The source is read empty: what came since it last was is its rate.
	// An interval shorter than minPause tells no rate (a read that woke
	// in the middle of a burst, a few writes microseconds apart): it is
	// counted into the next. Judged alone, each such interval called for
	// no pause, and a reader that once fell in step with the writer's
	// writes read each of them for good.
	elapsed := now.Sub(p.since)
	if elapsed < minPause {
		return
	}
	// One interval can still understate the rate (a read that woke at the
	// first write of a burst): the shorter of the last two pauses is
	// taken, so a reader pauses only when two intervals in a row call for
	// it, and never longer than the faster of them allows.
	d := p.pauseFor(elapsed, p.writes, p.bytes)
	p.pause = min(d, p.last)
	p.last = d
	p.since, p.writes, p.bytes = now, 0, 0
}

// pauseFor is the pause after a source wrote writes and bytes in elapsed.
func (p *Pacer) pauseFor(elapsed time.Duration, writes, bytes int) time.Duration {
	if elapsed <= 0 || writes <= 0 {
		return 0
	}
	// Would the source write quietWrites times within MaxPause?
	if int64(writes)*int64(p.set.MaxPause) < quietWrites*int64(elapsed) {
		return 0
	}
	d := min(p.set.MaxPause,
		time.Duration(int64(elapsed)*int64(p.set.Writes)/int64(writes)))
	if bytes > 0 {
		d = min(d, time.Duration(int64(elapsed)*int64(p.set.Bytes)/int64(bytes)))
	}
	if d < minPause {
		return 0
	}
	return d
}

// Pause is how long the next Wait will wait.
func (p *Pacer) Pause() time.Duration {
	if p.stopped {
		return 0
	}
	return p.pause
}

// PacedReader reads a stream of lines through a Pacer: each read waits
// the pause the last one called for, and counts its lines as writes (one
// line per write(2) is how services log; a writer of several lines per
// write is counted as more writes than it made, which only shortens the
// pause).
type PacedReader struct {
	r     io.Reader
	pacer *Pacer
}

// NewPacedReader returns r paced by p.
func NewPacedReader(r io.Reader, p *Pacer) *PacedReader {
	return &PacedReader{r: r, pacer: p}
}

func (pr *PacedReader) Read(b []byte) (int, error) {
	pr.pacer.Wait()
	n, err := pr.r.Read(b)
	if n > 0 {
		// A read brings at least one write, though it may end mid-line
		// (a long line, or octet-counted frames without newlines).
		pr.pacer.Read(max(1, bytes.Count(b[:n], newline)), n, n == len(b))
	}
	return n, err
}

var newline = []byte{'\n'}
