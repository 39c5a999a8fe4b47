//go:build resilience

package resilience

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
)

// serveEach serves every connection l accepts with serve, each in its own
// goroutine. admit, if not nil, is asked first: false closes the
// connection at once (a tier-2 side that is down). At cleanup the
// listener and every connection are closed and the goroutines waited for;
// a cleanup a caller registers after this one runs before it.
func serveEach(t *testing.T, l net.Listener, admit func() bool, serve func(net.Conn)) {
	t.Helper()
	var wg sync.WaitGroup
	var conns sync.Map
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if admit != nil && !admit() {
				c.Close()
				continue
			}
			conns.Store(c, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		wg.Wait()
	})
}

// tier2Conn is the tier-2 side of one cfjs1 connection as the stand-ins
// answer it: control lines (hello, pings) are answered at once; after the
// sender's hello every data line counts, and the count is acknowledged
// whenever the stand-in has read everything the sender sent so far (one
// acknowledgement per line would cost the test more than the collector
// it measures).
type tier2Conn struct {
	c          net.Conn
	r          *bufio.Reader
	acking     bool
	seq, acked uint64
	long       []byte // a line longer than r's buffer, put together
}

func newTier2Conn(c net.Conn) *tier2Conn {
	return &tier2Conn{c: c, r: bufio.NewReaderSize(c, 1<<20)}
}

var ctlPrefix = []byte(`{"cfjs1_ctl":`)

// next returns the next data line, with its newline. It is valid until
// the next call. A line cut off by the end of the connection is not a
// line: the error ends the connection.
func (c *tier2Conn) next() ([]byte, error) {
	for {
		if err := c.ackIfCaughtUp(); err != nil {
			return nil, err
		}
		line, err := c.readLine()
		if err != nil {
			return nil, err
		}
		if !bytes.HasPrefix(line, ctlPrefix) {
			if c.acking {
				c.seq++
			}
			return line, nil
		}
		if bytes.Contains(line, []byte(`"hello"`)) {
			c.acking, c.seq, c.acked = true, 0, 0
		}
		if c.acking {
			if err := c.ack(); err != nil {
				return nil, err
			}
		}
	}
}

// readLine reads one line without copying it, unless it is longer than
// the reader's buffer.
func (c *tier2Conn) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	c.long = append(c.long[:0], line...)
	for errors.Is(err, bufio.ErrBufferFull) {
		line, err = c.r.ReadSlice('\n')
		c.long = append(c.long, line...)
	}
	return c.long, err
}

// ackIfCaughtUp acknowledges the lines counted so far if nothing more
// has arrived.
func (c *tier2Conn) ackIfCaughtUp() error {
	if c.r.Buffered() != 0 {
		return nil
	}
	return c.ackPending()
}

// ackPending acknowledges the lines counted since the last
// acknowledgement, if there are any.
func (c *tier2Conn) ackPending() error {
	if c.seq == c.acked {
		return nil
	}
	return c.ack()
}

// ack acknowledges every line counted so far (nothing before the hello).
func (c *tier2Conn) ack() error {
	if !c.acking {
		return nil
	}
	c.acked = c.seq
	_, err := fmt.Fprintf(c.c, "{\"ack\":%d}\n", c.seq)
	return err
}
