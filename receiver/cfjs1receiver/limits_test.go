package cfjs1receiver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
)

// failingListener plays a script of accepts: an errno fails that Accept
// with the error the kernel gives (as net.OpError around the errno, the
// way package net reports it), a 0 accepts for real; after the script
// every Accept is real. Exhausting the descriptors of the test process
// itself would hit every test running beside it; the resilience test
// tier2_limits_test.go does that to the collector binary.
type failingListener struct {
	*net.TCPListener
	mu          sync.Mutex
	script      []syscall.Errno
	lastFailure time.Time
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	var errno syscall.Errno
	if len(l.script) > 0 {
		errno, l.script = l.script[0], l.script[1:]
	}
	if errno != 0 {
		l.lastFailure = time.Now()
		l.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", errno)}
	}
	l.mu.Unlock()
	return l.TCPListener.Accept()
}

// failedAt is when the last scripted failure was returned.
func (l *failingListener) failedAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastFailure
}

// listenFailing serves r on a loopback listener playing script.
func listenFailing(t *testing.T, r *telReceiver, host component.Host, script ...syscall.Errno) *failingListener {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	fl := &failingListener{TCPListener: ln, script: script}
	require.NoError(t, r.serveListener(context.Background(), host, fl))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return fl
}

// hello sends a hello of the given line and waits for its ack.
func hello(t *testing.T, c net.Conn, line string) *bufio.Reader {
	t.Helper()
	_, err := io.WriteString(c, line)
	require.NoError(t, err)
	br := bufio.NewReader(c)
	assert.EqualValues(t, 0, readAck(t, br, c))
	return br
}

func TestAcceptSurvivesResourceErrors(t *testing.T) {
	sink := &consumertest.LogsSink{}
	r := newTelReceiver(t, sink, nil)
	r.acceptQuiet = 50 * time.Millisecond
	host := &statusHost{Host: componenttest.NewNopHost()}
	start := time.Now()
	fl := listenFailing(t, r, host, syscall.EMFILE, syscall.EMFILE, syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS)

	c := dial(t, r.cfjs1Receiver)
	br := hello(t, c, cfjs1.HelloLine)
	// Five failures back off 5+10+20+40+80 ms before the accept that works.
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "failed accepts back off")
	_, err := io.WriteString(c, lineA+"\n")
	require.NoError(t, err)
	assert.EqualValues(t, 1, readAck(t, br, c))
	assert.Equal(t, 1, sink.LogRecordCount())

	assert.EqualValues(t, 3, r.sum(t, "otelcol_logx_cfjs1_receiver_accept_errors", reason("emfile")))
	assert.EqualValues(t, 1, r.sum(t, "otelcol_logx_cfjs1_receiver_accept_errors", reason("enfile")))
	assert.EqualValues(t, 1, r.sum(t, "otelcol_logx_cfjs1_receiver_accept_errors", reason("enobufs")))
	host.waitStatuses(t, 10*time.Second, "unhealthy once while accepts fail, healthy again once they stopped failing",
		componentstatus.StatusRecoverableError, componentstatus.StatusOK)
	assert.GreaterOrEqual(t, host.lastAt().Sub(fl.failedAt()), r.acceptQuiet, "healthy before accepts went acceptQuiet without failing")
}

// TestAcceptOutageOutlastsOneFreedDescriptor: while descriptors are short,
// a connection that ends frees one and the next accept works, then they
// fail again. Reporting healthy at that accept restarted the health
// check's recovery_duration, so a tier 2 turning most connections away
// was never reported unhealthy. The outage ends only once accepts went
// acceptQuiet without failing.
func TestAcceptOutageOutlastsOneFreedDescriptor(t *testing.T) {
	sink := &consumertest.LogsSink{}
	r := newTelReceiver(t, sink, nil)
	r.acceptQuiet = 300 * time.Millisecond
	host := &statusHost{Host: componenttest.NewNopHost()}
	fl := listenFailing(t, r, host, syscall.EMFILE, 0, syscall.EMFILE, syscall.EMFILE, 0, syscall.EMFILE)

	for range 3 { // the two scripted accepts, then the first after the script
		c := dial(t, r.cfjs1Receiver)
		hello(t, c, cfjs1.HelloLine)
	}
	assert.EqualValues(t, 4, r.sum(t, "otelcol_logx_cfjs1_receiver_accept_errors", reason("emfile")))
	host.waitStatuses(t, 10*time.Second, "one outage from the first failure until accepts stopped failing",
		componentstatus.StatusRecoverableError, componentstatus.StatusOK)
	assert.GreaterOrEqual(t, host.lastAt().Sub(fl.failedAt()), r.acceptQuiet, "healthy before accepts went acceptQuiet without failing")
}

// TestAcceptFailureEndsWhileIdle: the last thing the listener saw was a
// failed accept, and nobody connects after it. The failure must still
// end: a load balancer that takes a tier 2 out of rotation while health
// says 500 sends it no connection that could succeed, so waiting for a
// successful accept would keep it out for good.
func TestAcceptFailureEndsWhileIdle(t *testing.T) {
	r := newTelReceiver(t, &consumertest.LogsSink{}, nil)
	r.acceptQuiet = 200 * time.Millisecond
	host := &statusHost{Host: componenttest.NewNopHost()}
	fl := listenFailing(t, r, host, syscall.EMFILE)

	host.waitStatuses(t, 10*time.Second, "healthy again with no connection after the failure",
		componentstatus.StatusRecoverableError, componentstatus.StatusOK)
	assert.GreaterOrEqual(t, host.lastAt().Sub(fl.failedAt()), r.acceptQuiet, "healthy before acceptQuiet without a failure")
}

func TestSlowSendersAreClosed(t *testing.T) {
	certFile, keyFile, pool := testCerts(t)
	sink := &consumertest.LogsSink{}
	r := startTelReceiver(t, sink, func(c *Config) {
		tc := configtls.NewDefaultServerConfig()
		tc.CertFile, tc.KeyFile = certFile, keyFile
		c.TLS = configoptional.Some(tc)
		c.HandshakeTimeout = 300 * time.Millisecond
		c.LineTimeout = 500 * time.Millisecond
		c.IdleTimeout = time.Minute // what closed a trickling sender before
	})
	good := dialTLS(t, r, pool)
	gbr := hello(t, good, cfjs1.HelloLine)

	const n = 3
	var wg sync.WaitGroup
	closedAfter := make(chan time.Duration, 2*n)
	for range n {
		// Connects and never says a word of TLS.
		raw, err := net.Dial("tcp", r.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { _ = raw.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			closedAfter <- waitClosed(t, raw, 10*time.Second)
		}()
	}
	stop := make(chan struct{})
	for range n {
		// Completes the handshake, then trickles a line a byte every 50 ms.
		slow := dialTLS(t, r, pool)
		wg.Add(2)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for range 200 { // at most 10 s
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if _, err := slow.Write([]byte("x")); err != nil {
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			closedAfter <- waitClosed(t, slow, 10*time.Second)
		}()
	}
	// The well-behaved sender is served meanwhile.
	for i := range 5 {
		_, err := io.WriteString(good, lineA+"\n")
		require.NoError(t, err)
		assert.EqualValues(t, i+1, readAck(t, gbr, good))
	}
	for range 2 * n {
		assert.Less(t, <-closedAfter, 5*time.Second, "closed at its deadline, long before idle_timeout")
	}
	close(stop)
	wg.Wait()
	_, err := io.WriteString(good, lineA+"\n")
	require.NoError(t, err)
	assert.EqualValues(t, 6, readAck(t, gbr, good))
	require.Eventually(t, func() bool {
		return r.sum(t, "otelcol_logx_cfjs1_receiver_connections_closed", reason("slow")) == n &&
			r.sum(t, "otelcol_logx_cfjs1_receiver_connections_closed", reason("handshake_timeout")) == n
	}, 5*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return r.sum(t, "otelcol_logx_cfjs1_receiver_connections") == 1 },
		5*time.Second, 5*time.Millisecond, "only the good sender is left")
}

func TestLineTimeoutSparesSteadySenders(t *testing.T) {
	// Many short lines, each whole in well under line_timeout, over a
	// time far longer than it: the deadline is per line, not per
	// connection.
	sink := &consumertest.LogsSink{}
	r := startTelReceiver(t, sink, func(c *Config) { c.LineTimeout = 200 * time.Millisecond })
	c := dial(t, r.cfjs1Receiver)
	br := hello(t, c, cfjs1.HelloLine)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for i := 0; time.Since(start) < time.Second; i++ {
		<-tick.C
		_, err := io.WriteString(c, lineA+"\n")
		require.NoError(t, err)
		assert.EqualValues(t, i+1, readAck(t, br, c))
	}
	assert.Zero(t, r.sum(t, "otelcol_logx_cfjs1_receiver_connections_closed"))
}

func TestMaxConnectionsPerPeer(t *testing.T) {
	r := startTelReceiver(t, &consumertest.LogsSink{}, func(c *Config) {
		c.MaxConnections = 10
		c.MaxConnectionsPerPeer = 2
	})
	first := dialFrom(t, r, "127.0.0.1")
	hello(t, first, cfjs1.HelloLine)
	second := dialFrom(t, r, "127.0.0.1")
	hello(t, second, cfjs1.HelloLine)

	third := dialFrom(t, r, "127.0.0.1")
	_, _ = io.WriteString(third, cfjs1.HelloLine)
	waitClosed(t, third, 5*time.Second)
	assert.EqualValues(t, 1, r.sum(t, "otelcol_logx_cfjs1_receiver_connections_rejected", reason("max_connections_per_peer")))

	// Another host is not affected by the first one's share.
	for range 2 {
		hello(t, dialFrom(t, r, "127.0.0.2"), cfjs1.HelloLine)
	}
	// A slot given back is a slot the host may use again.
	require.NoError(t, first.Close())
	require.Eventually(t, func() bool {
		c := dialFrom(t, r, "127.0.0.1")
		defer c.Close()
		if _, err := io.WriteString(c, cfjs1.HelloLine); err != nil {
			return false
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		line, err := bufio.NewReader(c).ReadBytes('\n')
		return err == nil && strings.HasPrefix(string(line), `{"ack":0}`)
	}, 10*time.Second, 10*time.Millisecond)
}

func TestBufferedBytesStayWithinBudget(t *testing.T) {
	const (
		conns      = 16
		linesEach  = 2
		lineSize   = 200 << 10
		chunk      = 8 << 10
		maxLine    = 256 << 10
		budget     = 640 << 10
		baseBuffer = 64 << 10 // the framing decoder's first buffer
	)
	sink := &consumertest.LogsSink{}
	r := startTelReceiver(t, sink, func(c *Config) {
		c.MaxLineSize = maxLine
		c.MaxBufferedBytes = budget
	})
	line := []byte(`{"format":"nginx","nginx":{"message":"` + strings.Repeat("m", lineSize) + `"}}` + "\n")

	var peakBuffered, peakReserved int64
	sampled := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
			peakBuffered = max(peakBuffered, r.buffered.Load())
			peakReserved = max(peakReserved, r.budget.heldBytes())
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for range conns {
		c := dial(t, r.cfjs1Receiver)
		br := hello(t, c, cfjs1.HelloLine)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- sendSlowly(c, br, line, linesEach, chunk)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	close(stopSampling)
	<-sampled

	assert.Equal(t, conns*linesEach, sink.LogRecordCount(), "every line delivered")
	t.Logf("peak buffered %d bytes, peak reserved %d bytes, waits %d", peakBuffered, peakReserved,
		r.sum(t, "otelcol_logx_cfjs1_receiver_buffer_waits"))
	assert.LessOrEqual(t, peakReserved, int64(budget))
	// Unbounded, the sixteen connections hold most of a line each (about
	// 3 MiB at the peak); bounded, at most the budget plus every
	// connection's base buffer (1.6 MiB).
	assert.LessOrEqual(t, peakBuffered, int64(budget+conns*baseBuffer))
	assert.Positive(t, r.sum(t, "otelcol_logx_cfjs1_receiver_buffer_waits"), "some connections paused for the budget")
	// Given back once the lines are read (just after their acks).
	require.Eventually(t, func() bool { return r.budget.heldBytes() == 0 && r.buffered.Load() == 0 },
		5*time.Second, 5*time.Millisecond)
}

// sendSlowly writes n copies of line in chunks, a chunk every 2 ms, and
// waits for the ack of the last.
func sendSlowly(c net.Conn, br *bufio.Reader, line []byte, n, chunk int) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	for range n {
		for off := 0; off < len(line); off += chunk {
			<-tick.C
			if _, err := c.Write(line[off:min(off+chunk, len(line))]); err != nil {
				return err
			}
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		l, err := br.ReadBytes('\n')
		if err != nil {
			return err
		}
		a, err := cfjs1.ParseAck(l)
		if err != nil {
			return err
		}
		if a == uint64(n) {
			return nil
		}
	}
}

func TestV2SenderIsToldOfDroppedLines(t *testing.T) {
	sink := &consumertest.LogsSink{}
	r := startTelReceiver(t, sink, func(c *Config) {
		c.MaxLineSize = 256
		c.Decode.MaxDepth = 2
	})
	c := dial(t, r.cfjs1Receiver)
	br := hello(t, c, cfjs1.HelloLine)
	lines := []string{
		lineA,                    // 1
		"garbage",                // 2
		strings.Repeat("x", 300), // 3
		`{"format":"nginx","nginx":{"message":"m","attributes":{"a":{"b":{"c":{"d":1}}}}}}`, // 4
		`{"nginx":{"message":"no format"}}`,                                                 // 5
		lineB,                                                                               // 6
	}
	_, err := io.WriteString(c, strings.Join(lines, "\n")+"\n")
	require.NoError(t, err)

	rejected := map[uint64]string{}
	var acked uint64
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	for acked < 6 {
		l, err := br.ReadBytes('\n')
		require.NoError(t, err)
		rep, err := cfjs1.ParseReply(l)
		require.NoError(t, err)
		switch rep.Kind {
		case cfjs1.ReplyAck:
			acked = rep.N
		case cfjs1.ReplyReject:
			require.Less(t, acked, rep.N, "a reject comes before any ack that covers its line")
			rejected[rep.N] = rep.Reason
		}
	}
	assert.Equal(t, map[uint64]string{2: "invalid_json", 3: "line_too_long", 4: "too_deep", 5: "not_a_record"}, rejected)
	assert.Equal(t, 2, sink.LogRecordCount())
	for _, why := range rejected {
		assert.EqualValues(t, 1, r.sum(t, "otelcol_logx_cfjs1_receiver_dropped", reason(why)), why)
	}
}

func TestV1SenderGetsAcksOnly(t *testing.T) {
	r := startTelReceiver(t, &consumertest.LogsSink{}, nil)
	c := dial(t, r.cfjs1Receiver)
	br := hello(t, c, cfjs1.HelloLineV1)
	_, err := fmt.Fprintf(c, "%s\ngarbage\n%s\n", lineA, lineB)
	require.NoError(t, err)
	var acked uint64
	for acked < 3 {
		acked = readAck(t, br, c) // a reject line would fail to parse as an ack
	}
	assert.EqualValues(t, 1, r.sum(t, "otelcol_logx_cfjs1_receiver_dropped", reason("invalid_json")))
}

// slowPipeline holds its first batch until release is closed.
type slowPipeline struct {
	consumertest.LogsSink
	once    sync.Once
	release chan struct{}
}

func (s *slowPipeline) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	s.once.Do(func() { <-s.release })
	return s.LogsSink.ConsumeLogs(ctx, ld)
}

func TestSlowPipelineIsNotChargedToTheSender(t *testing.T) {
	// A line half received while the pipeline takes its time with the
	// batch before it: the wait is the receiver's, so the line still has
	// its whole line_timeout once the pipeline is done.
	sink := &slowPipeline{release: make(chan struct{})}
	r := startTelReceiver(t, sink, func(c *Config) { c.LineTimeout = 300 * time.Millisecond })
	c := dial(t, r.cfjs1Receiver)
	br := hello(t, c, cfjs1.HelloLine)
	_, err := io.WriteString(c, lineA+"\n"+lineB[:20])
	require.NoError(t, err)
	time.AfterFunc(time.Second, func() { close(sink.release) }) // the pipeline's delay, not a synchronisation
	assert.EqualValues(t, 1, readAck(t, br, c))
	_, err = io.WriteString(c, lineB[20:]+"\n")
	require.NoError(t, err)
	assert.EqualValues(t, 2, readAck(t, br, c))
	assert.Zero(t, r.sum(t, "otelcol_logx_cfjs1_receiver_connections_closed"))
}

func TestOverlongLineTrickledIsSlow(t *testing.T) {
	// Past max_line_size the rest of a line is read and discarded; that
	// rest is still the line, and still has to end within line_timeout.
	r := startTelReceiver(t, &consumertest.LogsSink{}, func(c *Config) {
		c.MaxLineSize = 256
		c.LineTimeout = 300 * time.Millisecond
	})
	c := dial(t, r.cfjs1Receiver)
	_, err := io.WriteString(c, strings.Repeat("x", 400))
	require.NoError(t, err)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for range 250 { // at most 5 s
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	assert.Less(t, waitClosed(t, c, 10*time.Second), 3*time.Second)
	close(stop)
	<-done
	require.Eventually(t, func() bool {
		return r.sum(t, "otelcol_logx_cfjs1_receiver_connections_closed", reason("slow")) == 1
	}, 5*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, 1, r.sum(t, "otelcol_logx_cfjs1_receiver_dropped", reason("line_too_long")))
}

func TestByteAtATimeSenderCostsFewReads(t *testing.T) {
	// Each read costs a wakeup and a system call whatever it brings; a
	// sender writing a line a byte at a time must not cost one per byte.
	sink := &consumertest.LogsSink{}
	r := startTelReceiver(t, sink, nil)
	c := dial(t, r.cfjs1Receiver)
	br := hello(t, c, cfjs1.HelloLine)
	line := `{"format":"nginx","nginx":{"message":"` + strings.Repeat("m", 20000) + `"}}` + "\n"
	before := r.reads.Load()
	start := time.Now()
	for i := range len(line) {
		_, err := c.Write([]byte{line[i]})
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, readAck(t, br, c))
	reads := r.reads.Load() - before
	t.Logf("%d one-byte writes in %s: %d reads", len(line), time.Since(start), reads)
	assert.Less(t, reads, int64(len(line)/20), "bytes written one at a time are read many at a time")
	assert.Equal(t, 1, sink.LogRecordCount())
}

func TestTLSSmallRecordsAreNotThrottled(t *testing.T) {
	// Over TLS every write of the sender is a record, and a TLS connection
	// hands out one record per read: the pause for tiny reads is taken at
	// the socket, beneath TLS, where the records a pause lets gather are
	// read at once. Paced above TLS, this sender would get 200 lines a
	// second.
	certFile, keyFile, pool := testCerts(t)
	sink := &consumertest.LogsSink{}
	r := startTelReceiver(t, sink, func(c *Config) {
		tc := configtls.NewDefaultServerConfig()
		tc.CertFile, tc.KeyFile = certFile, keyFile
		c.TLS = configoptional.Some(tc)
	})
	c := dialTLS(t, r, pool)
	br := hello(t, c, cfjs1.HelloLine)
	const lines = 5000
	readsBefore := r.reads.Load()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		for range lines {
			if _, err := io.WriteString(c, lineA+"\n"); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(20*time.Second)))
	var acked uint64
	for acked < lines {
		acked = readAck(t, br, c)
	}
	require.NoError(t, <-done)
	reads := r.reads.Load() - readsBefore
	t.Logf("%d lines in %d TLS records: %s, %d socket reads", lines, lines, time.Since(start), reads)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Less(t, reads, int64(lines/4), "records are read from the socket many at a time")
	assert.Equal(t, lines, sink.LogRecordCount())
}

func TestTricklingSenderCostsFewBatches(t *testing.T) {
	// Short lines written a byte at a time: the connection is paced, and
	// each read brings a few lines. A batch costs a pipeline call, an
	// export and an ack whatever it holds, so while bytes keep coming a
	// connection's batches go by age (batchMaxAge), not one per read; and
	// the last lines go as soon as the sender stops, not with its next.
	sink := &consumertest.LogsSink{}
	r := startTelReceiver(t, sink, nil)
	c := dial(t, r.cfjs1Receiver)
	br := hello(t, c, cfjs1.HelloLine)
	const lines = 400
	data := []byte(strings.Repeat(lineA+"\n", lines))
	readsBefore := r.reads.Load()
	start := time.Now()
	for i := range data {
		_, err := c.Write(data[i : i+1])
		require.NoError(t, err)
	}
	elapsed := time.Since(start)
	var acked uint64
	for acked < lines {
		acked = readAck(t, br, c)
	}
	reads, batches := r.reads.Load()-readsBefore, len(sink.AllLogs())
	t.Logf("%d lines in %d one-byte writes over %s: %d reads, %d batches", lines, len(data), elapsed, reads, batches)
	require.Equal(t, lines, sink.LogRecordCount())
	assert.LessOrEqual(t, batches, int(elapsed/batchMaxAge)+3, "while bytes keep coming, batches go by age")
	assert.Greater(t, reads, int64(3*batches), "several reads make a batch")
}
