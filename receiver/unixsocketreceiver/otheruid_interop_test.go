//go:build interop

// Writers running as user nobody: starting them needs root (go test -tags
// interop; make test).

package unixsocketreceiver

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestOneUserCannotTakeEverySlot: a user (nobody, in a process of its
// own) that opens as many idle connections as the receiver takes gets
// max_connections_per_uid of them; the rest are closed and counted, and
// another user still connects and is read.
func TestOneUserCannotTakeEverySlot(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.MaxConnections = 4
		c.MaxConnectionsPerUID = 2
		c.IdleTimeout = time.Hour
	})
	require.NoError(t, os.Chmod(filepath.Dir(h.cfg.Path), 0o755))
	nobody := uint32(65534)
	w := startChild(t, childOptions{uid: &nobody, cgroupFD: -1}, childHold, h.cfg.Path, "4")
	require.Equal(t, "connected", w.line(t))
	closed := []string{w.line(t), w.line(t)}
	sort.Strings(closed)
	assert.Equal(t, []string{"closed 2", "closed 3"}, closed, "the connections past the user's 2 are closed")
	testutil.WaitFor(t, 30*time.Second, "refusals counted", func() bool {
		return h.counter("otelcol_logx_unixsocket_rejected_connections", reasonMaxConnectionsPerUID) == 2
	})
	util, ok := h.guardValue(guard.MetricUtilization, "max_connections")
	assert.True(t, ok)
	assert.Equal(t, 0.5, util, "2 of 4 connections open")
	util, ok = h.guardValue(guard.MetricUtilization, "max_connections_per_uid")
	assert.True(t, ok)
	assert.Equal(t, 1.0, util, "nobody holds its 2")

	// Another user (the test's) is still served.
	c := h.dial()
	defer c.Close()
	_, err := c.Write([]byte("<13>root: still room\n"))
	require.NoError(t, err)
	testutil.WaitFor(t, 30*time.Second, "the other user's line", func() bool { return h.sink.LogRecordCount() == 1 })
	assert.Equal(t, "still room", testutil.LogRecords(h.sink.AllLogs())[0].Body().Str())
	assert.Zero(t, h.counter("otelcol_logx_unixsocket_rejected_connections", reasonMaxConnections))
}

// TestDatagramCredentials: datagrams carry their sender's credentials
// (SCM_CREDENTIALS): a sender running as another user is recorded with
// its uid, gid and pid, and as that user, not as the app it names.
func TestDatagramCredentials(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Transport = Datagram })
	require.NoError(t, os.Chmod(filepath.Dir(h.cfg.Path), 0o755))
	nobody := uint32(65534)
	w := startChild(t, childOptions{uid: &nobody, cgroupFD: -1}, childDatagram, h.cfg.Path, "<13>Nov 22 04:00:00 sshd[1]: from nobody")
	require.Equal(t, "sent", w.line(t))
	testutil.WaitFor(t, 30*time.Second, "the record", func() bool { return h.sink.LogRecordCount() == 1 })
	lr := testutil.LogRecords(h.sink.AllLogs())[0]
	assert.Equal(t, int64(w.cmd.Process.Pid), attr(lr, logattr.PeerPID))
	assert.Equal(t, int64(nobody), attr(lr, logattr.PeerUID))
	assert.Equal(t, int64(nobody), attr(lr, logattr.PeerGID))
	assert.Equal(t, uidService(nobody), attr(lr, logattr.Service))
	assert.Equal(t, "sshd", attr(lr, logattr.ServiceClaimed))
	assert.Equal(t, false, attr(lr, logattr.ServiceTrusted))
}
