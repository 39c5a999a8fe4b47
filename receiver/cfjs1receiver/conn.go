package cfjs1receiver

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/framing"
)

// ackWriteTimeout bounds writing an ack: a sender that does not read its
// acks is not worth blocking the connection for.
const ackWriteTimeout = 10 * time.Second

// batchMaxAge bounds how long a connection's lines wait in its batch while
// more of its bytes keep coming. A batch costs a pipeline call, an export
// and an ack (goroutine hand-offs, system calls: most of a millisecond of
// CPU) whatever it holds, so it is not handed over after every read, which
// for a sender writing a line at a time, or trickling bytes, would be a
// batch per line. It goes when the socket has nothing waiting before a
// read (the sender paused: its lines must not wait for its next ones),
// when it is full (max_batch_lines), or when it is this old.
const batchMaxAge = 50 * time.Millisecond

// reasonLineTooLong is the drop reason of a line over max_line_size; the
// decoder's reasons come from cfjs1.DropReason.
const reasonLineTooLong = "line_too_long"

var (
	reasonRefused          = metric.WithAttributes(attribute.String("reason", "refused"))
	reasonHandshakeTimeout = metric.WithAttributes(attribute.String("reason", "handshake_timeout"))
	reasonHandshakeError   = metric.WithAttributes(attribute.String("reason", "handshake_error"))
)

// dropReasons holds the metric option of every reason a line is dropped
// for, made once: counting a drop must not allocate.
var dropReasons = func() map[string]metric.AddOption {
	m := map[string]metric.AddOption{}
	for _, r := range []string{reasonLineTooLong, cfjs1.ReasonInvalidJSON, cfjs1.ReasonNotARecord,
		cfjs1.ReasonTooManyMembers, cfjs1.ReasonTooManyValues, cfjs1.ReasonTooDeep, cfjs1.ReasonDecodeError} {
		m[r] = metric.WithAttributes(attribute.String("reason", r))
	}
	return m
}()

// connReader reads one connection: lines are batched until the sender
// pauses, the batch is full or it is batchMaxAge old, then handed to the
// pipeline; acks follow the pipeline's acceptance.
type connReader struct {
	r     *cfjs1Receiver
	conn  net.Conn
	in    *lineInput
	dec   *framing.Decoder
	pacer *socketPacer
	batch *cfjs1.Batch
	lines int       // data lines in batch, decoded or not
	begun time.Time // when the batch's first line was read

	acking    bool
	rejecting bool   // the sender said hello with version 2: name the lines dropped
	seq       uint64 // data lines read since hello
	acked     uint64 // last ack written
	ackBuf    []byte // reject lines of the batch, then its ack
	err       error  // set when the connection must close
}

func (r *cfjs1Receiver) serve(conn net.Conn, pacer *socketPacer) {
	if !r.handshake(conn) {
		return
	}
	c := &connReader{r: r, conn: conn, pacer: pacer, batch: cfjs1.NewBatch()}
	c.in = &lineInput{r: r, conn: conn}
	pacer.beforeRead = c.beforeSocketRead
	defer c.in.close()
	c.newDecoder()
	for c.err == nil {
		f, err := c.dec.Next()
		if err != nil {
			c.flush()
			c.ended(err)
			return
		}
		c.line(f)
		c.in.frameDone(f.Truncated, c.dec.Buffered())
		if c.in.reserved > 0 && !f.Truncated && c.dec.Buffered() == 0 {
			// The long line is read and nothing follows it yet: go back to
			// a base-size buffer, and give the budget back once the batch
			// holding the line has been handed over (at the next read).
			c.newDecoder()
		}
	}
	r.set.Logger.Debug("closing cfjs1 connection", zap.String("peer", conn.RemoteAddr().String()), zap.Error(c.err))
}

// newDecoder starts a decoder with a base-size buffer. It is only called
// at a line boundary with nothing buffered, so no bytes are lost.
func (c *connReader) newDecoder() {
	c.dec = framing.NewDecoder(c.in, framing.Newline, c.r.cfg.MaxLineSize)
	c.dec.OnRead = c.beforeRead
	c.in.useDecoder(c.dec)
}

// beforeRead is called by the decoder before it reads for more bytes: an
// old batch goes now, and so does one holding a long line, so that the
// budget the line took is given back. Whether the sender paused is known
// only at the socket (beneath TLS): see beforeSocketRead.
func (c *connReader) beforeRead() {
	if c.in.releasePending || time.Since(c.begun) >= batchMaxAge {
		c.flush()
	}
}

// beforeSocketRead is called before each read of the socket: when nothing
// is waiting in it, the read waits for the sender, and the batch must not
// wait with it. The read's deadline was set before the batch went, so it
// is set again: the time the pipeline took is not the sender's.
func (c *connReader) beforeSocketRead() {
	if c.lines == 0 || c.pacer.queue.waiting() > 0 {
		return
	}
	c.flush()
	c.in.setDeadline()
}

// handshake completes the TLS handshake within handshake_timeout, so a
// client that connects and then says nothing (or trickles its hello) is
// gone after seconds, not after idle_timeout.
func (r *cfjs1Receiver) handshake(conn net.Conn) bool {
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return true
	}
	_ = conn.SetDeadline(time.Now().Add(r.cfg.HandshakeTimeout))
	err := tc.HandshakeContext(r.ctx)
	if err == nil {
		_ = conn.SetDeadline(time.Time{})
		return true
	}
	reason := reasonHandshakeError
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		reason = reasonHandshakeTimeout
	}
	r.tel.LogxCfjs1ReceiverConnectionsClosed.Add(r.ctx, 1, reason)
	r.set.Logger.Debug("cfjs1 TLS handshake failed", zap.String("peer", conn.RemoteAddr().String()), zap.Error(err))
	return false
}

// ended counts why the connection stopped reading, when it was a limit.
func (c *connReader) ended(err error) {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		why, opt := c.in.timeoutReason()
		c.r.tel.LogxCfjs1ReceiverConnectionsClosed.Add(c.r.ctx, 1, opt)
		c.r.set.Logger.Debug("cfjs1 connection timed out", zap.String("peer", c.conn.RemoteAddr().String()),
			zap.String("reason", why), zap.Int("buffered", c.dec.Buffered()), zap.Int64("reserved", c.in.reserved))
	case !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, errShutdown):
		c.r.set.Logger.Debug("cfjs1 connection ended", zap.Error(err))
	}
}

func (c *connReader) line(f framing.Frame) {
	switch cfjs1.ParseControl(f.Bytes) {
	case cfjs1.Hello:
		c.flush()
		c.acking, c.seq, c.acked = true, 0, 0
		c.rejecting = cfjs1.HelloVersion(f.Bytes) >= 2
		c.writeAck(true)
		return
	case cfjs1.Ping:
		c.flush()
		c.writeAck(true)
		return
	case cfjs1.UnknownControl:
		return // a later protocol version's control line: not a log
	}
	c.seq++
	if c.lines == 0 {
		c.begun = time.Now()
	}
	c.lines++
	c.r.tel.LogxCfjs1ReceiverLines.Add(c.r.ctx, 1)
	if f.Truncated {
		c.drop(reasonLineTooLong)
	} else {
		if _, err := c.batch.Add(&c.r.decoder, f.Bytes); err != nil {
			c.drop(cfjs1.DropReason(err))
			c.r.set.Logger.Debug("undecodable cfjs1 line", zap.Error(err))
		}
	}
	if c.lines >= c.r.cfg.MaxBatchLines {
		c.flush()
	}
}

// drop counts the current line as dropped for reason and, for a version 2
// sender, queues the reject line that must reach it before the ack that
// covers the line: a dropped line is never reported as delivered.
func (c *connReader) drop(reason string) {
	opt, ok := dropReasons[reason]
	if !ok {
		opt = metric.WithAttributes(attribute.String("reason", reason))
	}
	c.r.tel.LogxCfjs1ReceiverDropped.Add(c.r.ctx, 1, opt)
	if c.acking && c.rejecting {
		c.ackBuf = cfjs1.AppendReject(c.ackBuf, c.seq, reason)
	}
}

// flush hands the batch to the pipeline and acknowledges it when accepted.
func (c *connReader) flush() {
	if c.err != nil || c.lines == 0 {
		return
	}
	// The time the pipeline and the ack take is not the sender's: a line
	// already begun in the buffer is not charged for it.
	defer c.in.excuse(time.Now())
	if n := c.batch.Records(); n > 0 {
		ctx := c.r.obs.StartLogsOp(c.r.ctx)
		err := c.r.next.ConsumeLogs(ctx, c.batch.Take())
		c.r.obs.EndLogsOp(ctx, "cfjs1", n, err)
		if err != nil {
			if c.acking {
				// Not acknowledged: the sender sends these again.
				c.err = err
				_ = c.conn.Close()
				return
			}
			c.r.tel.LogxCfjs1ReceiverDropped.Add(c.r.ctx, int64(n), reasonRefused)
		}
	}
	c.lines = 0
	c.writeAck(false)
}

// writeAck writes the queued reject lines, then the ack, in one write.
func (c *connReader) writeAck(always bool) {
	if !c.acking || c.err != nil || (!always && c.acked == c.seq) {
		return
	}
	c.ackBuf = cfjs1.AppendAck(c.ackBuf, c.seq)
	_ = c.conn.SetWriteDeadline(time.Now().Add(ackWriteTimeout))
	_, err := c.conn.Write(c.ackBuf)
	c.ackBuf = c.ackBuf[:0]
	if err != nil {
		c.err = err
		_ = c.conn.Close()
		return
	}
	c.acked = c.seq
}
