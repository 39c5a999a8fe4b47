package unixsocketreceiver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/sdactivation"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

type harness struct {
	t    testing.TB
	cfg  *Config
	tel  *componenttest.Telemetry
	sink *testutil.RefusingSink
	rcv  *unixSocketReceiver
}

// shortDir returns a temp dir with a path short enough for a unix socket.
func shortDir(t testing.TB) string {
	d, err := os.MkdirTemp("/tmp", "us")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func newHarness(t testing.TB, edit func(*Config)) *harness {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(shortDir(t), "log.sock")
	if edit != nil {
		edit(cfg)
	}
	require.NoError(t, cfg.Validate())
	h := &harness{t: t, cfg: cfg, tel: componenttest.NewTelemetry(), sink: &testutil.RefusingSink{}}
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = h.tel.NewTelemetrySettings()
	r, err := newReceiver(set, cfg, h.sink)
	require.NoError(t, err)
	h.rcv = r
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { h.stop() })
	return h
}

func (h *harness) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(h.t, h.rcv.Shutdown(ctx))
}

func (h *harness) dial() net.Conn {
	network := "unix"
	if h.cfg.Transport == Datagram {
		network = "unixgram"
	}
	c, err := net.Dial(network, h.cfg.Path)
	require.NoError(h.t, err)
	return c
}

// counter sums a counter, for one reason ("" for all).
func (h *harness) counter(name, reason string) int64 {
	return testutil.SumInt64Reason(h.t, h.tel, name, reason)
}

func TestStreamManyConcurrentWriters(t *testing.T) {
	h := newHarness(t, nil)
	const writers, perWriter = 16, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			c := h.dial()
			defer c.Close()
			bw := bufio.NewWriter(c)
			for i := range perWriter {
				fmt.Fprintf(bw, "<14>Nov 22 04:00:00 app%d[%d]: line %d\n", w, 100+w, i)
			}
			assert.NoError(t, bw.Flush())
		})
	}
	wg.Wait()
	testutil.WaitFor(t, 30*time.Second, "all lines", func() bool { return h.sink.LogRecordCount() == writers*perWriter })
	seen := map[string]bool{}
	for _, lr := range testutil.LogRecords(h.sink.AllLogs()) {
		a := lr.Attributes().AsRaw()
		app := a[logattr.SyslogAppName].(string)
		seen[app+" "+lr.Body().Str()] = true
		assert.Equal(t, int64(os.Getpid()), a[logattr.PeerPID])
		assert.Equal(t, int64(os.Getuid()), a[logattr.PeerUID])
		assert.Equal(t, int64(os.Getgid()), a[logattr.PeerGID])
		// The test process is usually not in a systemd service; the
		// service is then its user, and the app name only a claim.
		if unit, ok := a[logattr.SystemdUnit]; ok {
			assert.Equal(t, unit, a[logattr.Service])
			assert.Equal(t, true, a[logattr.ServiceTrusted])
		} else {
			assert.Equal(t, uidService(uint32(os.Getuid())), a[logattr.Service])
			assert.Equal(t, app, a[logattr.ServiceClaimed])
			assert.Equal(t, false, a[logattr.ServiceTrusted])
		}
		assert.Equal(t, plog.SeverityNumberInfo, lr.SeverityNumber())
	}
	assert.Len(t, seen, writers*perWriter, "every line exactly once")
}

func TestReconnectingWriters(t *testing.T) {
	h := newHarness(t, nil)
	const rounds, perRound = 50, 10
	for r := range rounds {
		c := h.dial()
		for i := range perRound {
			_, err := fmt.Fprintf(c, "<13>app: round %d line %d\n", r, i)
			require.NoError(t, err)
		}
		require.NoError(t, c.Close())
	}
	testutil.WaitFor(t, 30*time.Second, "all lines", func() bool { return h.sink.LogRecordCount() == rounds*perRound })
	assert.Zero(t, h.counter("otelcol_logx_unixsocket_rejected_connections", ""))
}

// A line beyond max_message_size, one without a header and one with
// invalid UTF-8 on one connection: see
// testutil.OversizedMalformedAndInvalidUTF8.
func TestOversizedMalformedAndInvalidUTF8(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxMessageSize = 1024; c.Framing = 0 })
	testutil.OversizedMalformedAndInvalidUTF8(t, h.lineReader())
}

func TestOctetCountingStream(t *testing.T) {
	h := newHarness(t, nil) // framing auto
	c := h.dial()
	msg := "<165>1 2003-10-11T22:14:15.003Z host app 42 ID7 [a@1 k=\"v\"] multi\nline"
	_, err := fmt.Fprintf(c, "%d %s%d %s", len(msg), msg, len(msg), msg)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	testutil.WaitFor(t, 30*time.Second, "2 records", func() bool { return h.sink.LogRecordCount() == 2 })
	lr := testutil.LogRecords(h.sink.AllLogs())[0]
	assert.Equal(t, "multi\nline", lr.Body().Str())
	v, _ := lr.Attributes().Get("syslog.sd.a@1.k")
	assert.Equal(t, "v", v.Str())
}

func TestDatagram(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Transport = Datagram
		c.MaxMessageSize = 100
	})
	c := h.dial()
	defer c.Close()
	const n = 200
	for i := range n {
		_, err := fmt.Fprintf(c, "<13>Nov 22 04:00:00 dg[1]: datagram %d\n", i)
		require.NoError(t, err)
	}
	_, err := c.Write([]byte("no header " + strings.Repeat("y", 300)))
	require.NoError(t, err)
	testutil.WaitFor(t, 30*time.Second, "all datagrams", func() bool { return h.sink.LogRecordCount() == n+1 })
	recs := testutil.LogRecords(h.sink.AllLogs())
	assert.Equal(t, "datagram 0", recs[0].Body().Str())
	assert.Equal(t, "dg", attr(recs[0], logattr.ServiceClaimed))
	assert.Equal(t, int64(os.Getpid()), attr(recs[0], logattr.PeerPID))
	last := recs[n]
	assert.Len(t, last.Body().Str(), 100)
	assert.Nil(t, attr(last, logattr.ServiceClaimed))
	assert.Equal(t, int64(os.Getuid()), attr(last, logattr.PeerUID))
	assert.Equal(t, int64(1), h.counter("otelcol_logx_unixsocket_truncated_messages", ""))
}

func TestSocketFileLifecycle(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "s.sock")
	// A stale socket from a previous run.
	stale, err := net.Listen("unix", path)
	require.NoError(t, err)
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, stale.Close())
	_, err = os.Stat(path)
	require.NoError(t, err)

	h := newHarness(t, func(c *Config) { c.Path = path; c.Mode = "0620" })
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o620), fi.Mode().Perm())
	assert.NotZero(t, fi.Mode()&os.ModeSocket)
	restore := sdactivation.SetParkFor(50 * time.Millisecond)
	h.stop()
	restore()
	testutil.WaitFor(t, 30*time.Second, "socket removed once no reload took it back", func() bool {
		_, err := os.Stat(path)
		return errors.Is(err, os.ErrNotExist)
	})

	// A regular file there is not replaced.
	require.NoError(t, os.WriteFile(path, []byte("keep"), 0o600))
	cfg := createDefaultConfig().(*Config)
	cfg.Path = path
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, consumerNop{})
	require.NoError(t, err)
	require.ErrorContains(t, r.Start(context.Background(), componenttest.NewNopHost()), "is not a socket")
	require.NoError(t, r.Shutdown(context.Background()))
	b, _ := os.ReadFile(path)
	assert.Equal(t, "keep", string(b))
}

type consumerNop struct{}

func (consumerNop) Capabilities() consumer.Capabilities          { return consumer.Capabilities{} }
func (consumerNop) ConsumeLogs(context.Context, plog.Logs) error { return nil }

func TestMaxConnections(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxConnections = 2; c.MaxConnectionsPerUID = 0 })
	c1, c2 := h.dial(), h.dial()
	defer c1.Close()
	defer c2.Close()
	// Both are served: a line from each arrives.
	_, _ = c1.Write([]byte("<13>a: 1\n"))
	_, _ = c2.Write([]byte("<13>b: 2\n"))
	testutil.WaitFor(t, 30*time.Second, "2 lines", func() bool { return h.sink.LogRecordCount() == 2 })
	c3 := h.dial()
	defer c3.Close()
	require.NoError(t, c3.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err := c3.Read(make([]byte, 1))
	require.Error(t, err, "third connection is closed by the receiver")
	testutil.WaitFor(t, 30*time.Second, "rejection counted", func() bool {
		return h.counter("otelcol_logx_unixsocket_rejected_connections", reasonMaxConnections) == 1
	})
}

func TestUnknownOwnerFailsStartCleanly(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(shortDir(t), "o.sock")
	cfg.Owner = "no-such-user-logx"
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, consumerNop{})
	require.NoError(t, err)
	require.ErrorContains(t, r.Start(context.Background(), componenttest.NewNopHost()), "no-such-user-logx")
	require.NoError(t, r.Shutdown(context.Background()))
	_, err = os.Stat(cfg.Path)
	assert.ErrorIs(t, err, os.ErrNotExist)
}
