package cfjs1receiver

import (
	"bytes"
	"errors"
	"net"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-logx/otelcol-logx/internal/framing"
)

// decoderSlack is what a framing decoder's buffer holds beyond its longest
// line (room for the delimiter or a length header): a few bytes, rounded up.
const decoderSlack = 16

// errShutdown ends a read that was waiting (for max_buffered_bytes, or in
// a pause after tiny reads) when the receiver shuts down.
var errShutdown = errors.New("cfjs1 receiver shutting down")

var (
	reasonIdle = metric.WithAttributes(attribute.String("reason", "idle"))
	reasonSlow = metric.WithAttributes(attribute.String("reason", "slow"))
)

// lineInput is what a connection's framing decoder reads from. It bounds
// the connection in time and in memory:
//
//   - each read's deadline is idle_timeout between lines and, within a
//     line, line_timeout after the line's first byte: a line must arrive
//     whole within line_timeout, however its bytes are spaced;
//   - the decoder reads into its base buffer (its first, 64 KiB) freely;
//     when that buffer is full of one unfinished line (the decoder would
//     grow it next), the connection must first take a whole line's worth
//     (max_line_size) of max_buffered_bytes, waiting without reading (the
//     sender meets TCP back-pressure) until it can. Taking the whole line
//     at once, not piece by piece, means no connection ever holds part of
//     the budget while waiting for more, so connections cannot wait on
//     each other for ever.
type lineInput struct {
	r    *cfjs1Receiver
	conn net.Conn
	dec  *framing.Decoder

	base     int   // the decoder's first buffer size; 0 until its first read
	holding  int   // bytes of an unfinished line, as of the last read
	reserved int64 // bytes of max_buffered_bytes held for a long line
	// releasePending: the decoder that needed reserved was replaced; the
	// bytes go back at the next read, when the batch holding the long
	// line has been handed to the pipeline.
	releasePending bool

	lineStart time.Time // when the line being read began; zero between lines
	lastRead  time.Time // when the last read returned data
	deadline  time.Time // the read deadline set last
	err       error     // a budget wait ended by shutdown: every read fails
}

// useDecoder makes dec the decoder reading from in (a new one starts with
// its base buffer, so whatever was reserved for the old one can go back).
func (in *lineInput) useDecoder(dec *framing.Decoder) {
	in.dec, in.base = dec, 0
	in.releasePending = in.reserved > 0
}

func (in *lineInput) Read(p []byte) (int, error) {
	if in.err != nil {
		return 0, in.err
	}
	if in.releasePending {
		in.r.budget.release(in.reserved)
		in.reserved, in.releasePending = 0, false
	}
	if in.base == 0 {
		in.base = len(p) // a new decoder reads into its whole buffer first
	}
	buffered := in.dec.Buffered() // an unfinished line: complete ones were taken
	in.hold(buffered)
	in.setDeadline()
	n, err := in.conn.Read(p)
	if n == 0 {
		return n, err
	}
	in.lastRead = time.Now()
	if in.lineStart.IsZero() {
		in.lineStart = in.lastRead // a line has begun (frameDone says when it ends)
	}
	in.hold(buffered + n)
	if in.reserved == 0 && in.willGrow(p[:n], len(p), buffered) {
		in.reserveLine()
	}
	// Data first, as the decoder expects; a read error comes again.
	return n, nil
}

// willGrow says the read of got (into room bytes after buffered ones)
// filled the base buffer with one unfinished line: the decoder grows its
// buffer on its next read unless it can take a line out (it cannot: there
// is no newline) or the line is already over max_line_size (then it
// truncates it instead: the base buffer holds max_line_size).
func (in *lineInput) willGrow(got []byte, room, buffered int) bool {
	return len(got) == room && buffered+room == in.base &&
		in.base <= in.r.cfg.MaxLineSize+1 && bytes.IndexByte(got, '\n') < 0
}

// reserveLine takes a line's worth of max_buffered_bytes, waiting for it
// without reading. The wait is the receiver's doing, not the sender's, so
// it does not count against line_timeout.
func (in *lineInput) reserveLine() {
	need := int64(in.r.cfg.MaxLineSize + decoderSlack - in.base)
	t0 := time.Now()
	waited, err := in.r.budget.acquire(in.r.ctx, need, in.countWait)
	if err != nil {
		in.err = errShutdown
		return
	}
	in.reserved = need
	if waited {
		in.excuse(t0)
	}
}

func (in *lineInput) countWait() { in.r.tel.LogxCfjs1ReceiverBufferWaits.Add(in.r.ctx, 1) }

// setDeadline sets the read deadline, unless it is the one already set:
// within a line it stays the same from read to read, and a sender
// writing a byte at a time should not cost a timer update per byte.
func (in *lineInput) setDeadline() {
	d := time.Now().Add(in.r.cfg.IdleTimeout)
	if !in.lineStart.IsZero() {
		if ld := in.lineStart.Add(in.r.cfg.LineTimeout); ld.Before(d) {
			d = ld
		}
	}
	if !d.Equal(in.deadline) {
		in.deadline = d
		_ = in.conn.SetReadDeadline(d)
	}
}

// excuse moves the start of the line being read on by the time since
// since, spent on the receiver's side (handing a batch over, writing an
// ack): line_timeout measures the sender.
func (in *lineInput) excuse(since time.Time) {
	if !in.lineStart.IsZero() {
		in.lineStart = in.lineStart.Add(time.Since(since))
	}
}

// frameDone is told each frame the decoder returns, and how many bytes it
// still holds. A truncated frame is the beginning of an over-long line
// whose rest is still to be read (and discarded), so the line's clock runs
// on. After a whole line, bytes still held are the next line, which began
// by the last read at the latest.
func (in *lineInput) frameDone(truncated bool, buffered int) {
	switch {
	case truncated:
	case buffered > 0:
		in.lineStart = in.lastRead
	default:
		in.lineStart = time.Time{}
	}
}

// timeoutReason names the deadline a read ran into.
func (in *lineInput) timeoutReason() (string, metric.AddOption) {
	if !in.lineStart.IsZero() && !time.Now().Before(in.lineStart.Add(in.r.cfg.LineTimeout)) {
		return "slow", reasonSlow
	}
	return "idle", reasonIdle
}

// hold records that the connection now holds n bytes of an unfinished line.
func (in *lineInput) hold(n int) {
	if d := int64(n - in.holding); d != 0 {
		in.holding = n
		in.r.buffered.Add(d)
	}
}

// close gives back whatever the connection held of max_buffered_bytes.
func (in *lineInput) close() {
	in.hold(0)
	in.r.budget.release(in.reserved)
	in.reserved = 0
}
