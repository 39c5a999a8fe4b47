package cfjs1exporter

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The kernel-level guards are really set on the connection.
func TestSocketGuards(t *testing.T) {
	sink := newLineSink(t, false)
	cfg := testConfig(EndpointConfig{Name: "log-a", Endpoint: sink.addr()})
	p, err := dialPeer(context.Background(), cfg, cfg.Endpoints[0], nil)
	require.NoError(t, err)
	defer p.close(errClosed)

	raw, err := p.nc.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	get := func(level, opt int) int {
		var v int
		var gerr error
		require.NoError(t, raw.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), level, opt) }))
		require.NoError(t, gerr)
		return v
	}
	assert.Equal(t, int(cfg.Connection.UserTimeout.Milliseconds()), get(unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT))
	assert.Equal(t, 1, get(unix.SOL_SOCKET, unix.SO_KEEPALIVE))
	assert.Equal(t, int(cfg.Connection.KeepAlive.Seconds()), get(unix.IPPROTO_TCP, unix.TCP_KEEPIDLE))
	assert.Equal(t, int(cfg.Connection.KeepAlive.Seconds()), get(unix.IPPROTO_TCP, unix.TCP_KEEPINTVL))
	assert.Equal(t, cfg.Connection.KeepAliveCount, get(unix.IPPROTO_TCP, unix.TCP_KEEPCNT))
}

// A plain peer (no acks) that stops reading is caught by the write
// deadline: no push hangs, and the endpoint goes down.
func TestWriteDeadlineCatchesPeerThatStopsReading(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c // held open, never read
		}
	}()
	no := false
	cfg := testConfig(EndpointConfig{Name: "stuck", Endpoint: ln.Addr().String(), Ack: &no})
	cfg.Connection.WriteTimeout = 200 * time.Millisecond
	e := startExporter(t, cfg)
	c := <-accepted
	defer c.Close()

	ld := makeLogs(5000, "app")
	var pushErr error
	for range 200 { // ~2 MB a push: the socket buffers fill long before
		start := time.Now()
		pushErr = e.pushLogs(context.Background(), ld)
		require.Less(t, time.Since(start), 3*time.Second, "a push hung")
		if pushErr != nil {
			break
		}
	}
	require.Error(t, pushErr)
	assert.False(t, e.endpoints[0].isUp())
}
