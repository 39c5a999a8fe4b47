package cfjs1receiver

import (
	"errors"
	"io"
	"net"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/framing"
)

// ackWriteTimeout bounds writing an ack: a sender that does not read its
// acks is not worth blocking the connection for.
const ackWriteTimeout = 10 * time.Second

var (
	reasonDecode  = metric.WithAttributes(attribute.String("reason", "decode_error"))
	reasonTooLong = metric.WithAttributes(attribute.String("reason", "line_too_long"))
	reasonRefused = metric.WithAttributes(attribute.String("reason", "refused"))
)

// connReader reads one connection: lines are batched until the sender
// pauses (the framing decoder is about to read again) or the batch is full,
// then handed to the pipeline; acks follow the pipeline's acceptance.
type connReader struct {
	r     *cfjs1Receiver
	conn  net.Conn
	batch plog.Logs
	lines int // data lines in batch, decoded or not
	// scratch takes each decoded line; its record joins the batch's last
	// resource when resource and scope are the same (the usual case: one
	// connection, one host), else the whole scratch becomes a new resource.
	scratch plog.ResourceLogs

	acking bool
	seq    uint64 // data lines read since hello
	acked  uint64 // last ack written
	ackBuf []byte
	err    error // set when the connection must close
}

func (r *cfjs1Receiver) serve(conn net.Conn) {
	c := &connReader{r: r, conn: conn, batch: plog.NewLogs(), scratch: newScratch()}
	dec := framing.NewDecoder(conn, framing.Newline, r.cfg.MaxLineSize)
	dec.OnRead = func() {
		c.flush()
		_ = conn.SetReadDeadline(time.Now().Add(r.cfg.IdleTimeout))
	}
	_ = conn.SetReadDeadline(time.Now().Add(r.cfg.IdleTimeout))
	for c.err == nil {
		f, err := dec.Next()
		if err != nil {
			c.flush()
			var ne net.Error
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !(errors.As(err, &ne) && ne.Timeout()) {
				r.set.Logger.Debug("cfjs1 connection ended", zap.Error(err))
			}
			return
		}
		c.line(f)
	}
	if c.err != nil {
		r.set.Logger.Debug("closing cfjs1 connection", zap.String("peer", conn.RemoteAddr().String()), zap.Error(c.err))
	}
}

func (c *connReader) line(f framing.Frame) {
	switch cfjs1.ParseControl(f.Bytes) {
	case cfjs1.Hello:
		c.flush()
		c.acking, c.seq, c.acked = true, 0, 0
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
	c.lines++
	c.r.tel.Lines.Add(c.r.ctx, 1)
	if f.Truncated {
		c.r.tel.Dropped.Add(c.r.ctx, 1, reasonTooLong)
	} else {
		sl := c.scratch.ScopeLogs().At(0)
		_, err := cfjs1.Decode(f.Bytes, c.r.wrappers, cfjs1.Target{Resource: c.scratch.Resource(), Scope: sl.Scope(), Record: sl.LogRecords().At(0)})
		if err != nil {
			c.r.tel.Dropped.Add(c.r.ctx, 1, reasonDecode)
			c.r.set.Logger.Debug("undecodable cfjs1 line", zap.Error(err))
			c.scratch = newScratch()
		} else {
			c.addScratch()
		}
	}
	if c.lines >= c.r.cfg.MaxBatchLines {
		c.flush()
	}
}

func newScratch() plog.ResourceLogs {
	rl := plog.NewResourceLogs()
	rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	return rl
}

// addScratch moves the decoded line into the batch.
func (c *connReader) addScratch() {
	rls := c.batch.ResourceLogs()
	if n := rls.Len(); n > 0 {
		last := rls.At(n - 1)
		lastScope, scope := last.ScopeLogs().At(0).Scope(), c.scratch.ScopeLogs().At(0).Scope()
		if last.Resource().Attributes().Equal(c.scratch.Resource().Attributes()) &&
			lastScope.Name() == scope.Name() && lastScope.Version() == scope.Version() {
			rec := c.scratch.ScopeLogs().At(0).LogRecords().At(0)
			rec.MoveTo(last.ScopeLogs().At(0).LogRecords().AppendEmpty())
			// The scratch keeps its resource for the next comparison's
			// sake only; clear it so the next line starts empty.
			c.scratch.Resource().Attributes().Clear()
			scope.SetName("")
			scope.SetVersion("")
			return
		}
	}
	c.scratch.MoveTo(rls.AppendEmpty())
	c.scratch = newScratch()
}

// flush hands the batch to the pipeline and acknowledges it when accepted.
func (c *connReader) flush() {
	if c.err != nil || c.lines == 0 {
		return
	}
	n := c.batch.LogRecordCount()
	if n > 0 {
		ctx := c.r.obs.StartLogsOp(c.r.ctx)
		err := c.r.next.ConsumeLogs(ctx, c.batch)
		c.r.obs.EndLogsOp(ctx, "cfjs1", n, err)
		c.batch = plog.NewLogs()
		if err != nil {
			if c.acking {
				// Not acknowledged: the sender sends these again.
				c.err = err
				_ = c.conn.Close()
				return
			}
			c.r.tel.Dropped.Add(c.r.ctx, int64(n), reasonRefused)
		}
	}
	c.lines = 0
	c.writeAck(false)
}

func (c *connReader) writeAck(always bool) {
	if !c.acking || c.err != nil || (!always && c.acked == c.seq) {
		return
	}
	c.ackBuf = cfjs1.AppendAck(c.ackBuf[:0], c.seq)
	_ = c.conn.SetWriteDeadline(time.Now().Add(ackWriteTimeout))
	if _, err := c.conn.Write(c.ackBuf); err != nil {
		c.err = err
		_ = c.conn.Close()
		return
	}
	c.acked = c.seq
}
