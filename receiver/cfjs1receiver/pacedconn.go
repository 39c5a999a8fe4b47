package cfjs1receiver

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// A run of tiny reads is a sender writing a few bytes at a time (careless
// or hostile). Each read costs a wakeup and a system call whatever it
// brings, so after such a run the connection waits a moment before each
// read, letting the bytes gather in the socket buffer: the next read takes
// them all. A busy sender's reads are large and never wait; a quiet one
// (a line now and then) waits a few milliseconds more for its next line;
// one that writes a byte at a time loses no throughput, and costs tier 2 at
// most one wakeup per tinyReadPause instead of one per byte. A paced read
// brings what gathered during its pause, often more than tinyRead: the
// connection stays paced until a read fills the buffer it was given (the
// sender writes faster than pausing can keep up with), or it would fall
// back to tiny reads straight away.
const (
	tinyRead        = 4096
	tinyReadsInARow = 8
	tinyReadPause   = 5 * time.Millisecond
	// tlsReadAhead is what a TLS connection reads from its socket at once.
	// TLS asks its socket for about one record at a time, so without it
	// every record would be a read of its own, and a pause per record
	// would throttle a sender that writes small records.
	tlsReadAhead = 16 << 10
	// pausedLowWater is the socket's low-water mark while the connection
	// is paced. Each segment that reaches a socket wakes the process's
	// poller, whether or not a read is waiting, so during a pause a sender
	// writing a byte at a time would still cost a wakeup per byte; with
	// the mark raised the kernel wakes the poller once this much is queued.
	// The pause ends on its timer, and a read that finds nothing queued
	// lowers the mark to one byte before it waits.
	pausedLowWater = 64 << 10
)

// pacedConn is a connection's socket as the receiver reads it, beneath
// TLS when there is TLS: only at the socket do the bytes a pause lets
// gather come in one read.
type pacedConn struct {
	net.Conn
	rd    io.Reader // the socket, paced; for TLS with a read-ahead buffer
	pacer *socketPacer
}

func newPacedConn(ctx context.Context, raw net.Conn, reads *atomic.Int64, forTLS bool) *pacedConn {
	s := &socketPacer{conn: raw, ctx: ctx, reads: reads, queue: newSocketQueue(raw)}
	var rd io.Reader = s
	if forTLS {
		rd = bufio.NewReaderSize(rd, tlsReadAhead)
	}
	return &pacedConn{Conn: raw, rd: rd, pacer: s}
}

func (c *pacedConn) Read(p []byte) (int, error) { return c.rd.Read(p) }

// socketPacer reads the socket, waiting before each read after a run of
// tiny ones.
type socketPacer struct {
	conn  net.Conn
	ctx   context.Context // the receiver's: a pause ends at shutdown
	reads *atomic.Int64   // the receiver's count of socket reads
	tiny  int             // reads in a row that brought less than tinyRead
	pause *time.Timer
	queue socketQueue
	// lowWater: the socket's low-water mark is pausedLowWater.
	lowWater bool
	// beforeRead, when set, is called before each read of the socket,
	// after its pause if it is paced: the last moment to act before a
	// read that may wait for the sender.
	beforeRead func()
}

// paced says the connection is in a run of tiny reads: each read waits
// tinyReadPause first.
func (s *socketPacer) paced() bool { return s.tiny >= tinyReadsInARow }

func (s *socketPacer) Read(p []byte) (int, error) {
	paced := s.paced()
	if paced {
		s.setLowWater(true)
		if !s.wait() {
			return 0, errShutdown
		}
	}
	if s.beforeRead != nil {
		s.beforeRead()
	}
	if s.lowWater && s.queue.waiting() <= 0 {
		s.setLowWater(false) // this read waits: the sender's next byte must wake it
	}
	n, err := s.conn.Read(p)
	s.reads.Add(1)
	switch {
	case paced:
		if n == len(p) && n >= tinyRead {
			s.tiny = 0
			s.setLowWater(false)
		}
	case n < tinyRead:
		s.tiny++
	default:
		s.tiny = 0
	}
	return n, err
}

// setLowWater raises the socket's low-water mark to pausedLowWater, or
// lowers it to one byte.
func (s *socketPacer) setLowWater(raise bool) {
	if raise == s.lowWater {
		return
	}
	s.lowWater = raise
	if raise {
		s.queue.setLowWater(pausedLowWater)
	} else {
		s.queue.setLowWater(1)
	}
}

// wait waits tinyReadPause; false if the receiver shuts down meanwhile.
func (s *socketPacer) wait() bool {
	if s.pause == nil {
		s.pause = time.NewTimer(tinyReadPause)
	} else {
		s.pause.Reset(tinyReadPause)
	}
	select {
	case <-s.pause.C:
		return true
	case <-s.ctx.Done():
		s.pause.Stop()
		return false
	}
}
