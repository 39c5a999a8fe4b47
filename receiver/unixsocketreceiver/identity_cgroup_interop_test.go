//go:build interop

// Writers in real cgroups shaped like systemd units: making cgroups needs
// root and a cgroup v2 hierarchy (go test -tags interop; make test).

package unixsocketreceiver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// testCgroup makes the cgroup <parent>/rel in the unified hierarchy under
// a slice of this test's own, and returns a descriptor of it for
// SysProcAttr.CgroupFD. The cgroups are removed once the test's processes
// are gone. It skips the test only where no cgroup v2 hierarchy is mounted
// or the test may not make cgroups in it.
func testCgroup(t *testing.T, rel string) int {
	fd, _ := testCgroupAt(t, rel)
	return fd
}

// testCgroupAt is testCgroup, and also returns the cgroup's directory.
func testCgroupAt(t *testing.T, rel string) (int, string) {
	t.Helper()
	mount := cgroup2Mount()
	if mount == "" {
		t.Skip("no cgroup v2 (unified) hierarchy is mounted: the writer cannot be put in a unit's cgroup")
	}
	parent := filepath.Join(mount, fmt.Sprintf("logxtest-%d-%s.slice", os.Getpid(), strings.ToLower(t.Name())))
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		if errors.Is(err, os.ErrPermission) || errors.Is(err, unix.EROFS) {
			t.Skipf("cgroup v2 at %s is not writable by this test (%v): run it as root", mount, err)
		}
		require.NoError(t, err)
	}
	leaf := filepath.Join(parent, rel)
	require.NoError(t, os.MkdirAll(leaf, 0o755))
	fd, err := unix.Open(leaf, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = unix.Close(fd)
		// Deepest first; a cgroup is removed with rmdir once empty. An
		// ancestor another cgroup of the test still needs stays for its
		// own cleanup, which runs later.
		if err := unix.Rmdir(leaf); !errors.Is(err, unix.ENOENT) {
			assert.NoError(t, err, leaf)
		}
		for d := filepath.Dir(leaf); strings.HasPrefix(d, parent); d = filepath.Dir(d) {
			if err := unix.Rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
				break
			}
		}
	})
	return fd, leaf
}

// TestUserUnitCannotClaimASystemService: a writer in a real cgroup shaped
// like a user's own unit named sshd.service, under user@1000.service, is
// recorded as user@1000.service, with sshd.service as its user unit
// only: it neither spends sshd's rate limit nor writes into its file.
func TestUserUnitCannotClaimASystemService(t *testing.T) {
	cg := testCgroup(t, "user.slice/user-1000.slice/user@1000.service/app.slice/sshd.service")
	h := newHarness(t, nil)
	w := startChild(t, childOptions{cgroupFD: cg}, childWrite, h.cfg.Path, "<38>Nov 22 04:00:00 sshd[1]: Accepted password for root\n")
	w.wait(t)
	testutil.WaitFor(t, 30*time.Second, "the record", func() bool { return h.sink.LogRecordCount() == 1 })
	lr := testutil.LogRecords(h.sink.AllLogs())[0]
	assert.Equal(t, "user@1000.service", attr(lr, logattr.Service))
	assert.Equal(t, "user@1000.service", attr(lr, logattr.SystemdUnit))
	assert.Equal(t, "sshd.service", attr(lr, logattr.SystemdUserUnit))
	assert.Equal(t, true, attr(lr, logattr.ServiceTrusted))
	assert.Equal(t, int64(w.cmd.Process.Pid), attr(lr, logattr.PeerPID))
}

// TestExitedWriterKeepsItsUnit: a writer that connects, writes and exits
// (and is reaped) before the receiver accepts its connection is still
// recorded with its unit: the kernel keeps, for the connection, a pidfd of
// the writer that tells its cgroup after it is gone.
func TestExitedWriterKeepsItsUnit(t *testing.T) {
	cg := testCgroup(t, "system.slice/exited.service")
	release := holdAccepts(t)
	h := newHarness(t, nil)
	w := startChild(t, childOptions{cgroupFD: cg}, childWrite, h.cfg.Path, "<13>Nov 22 04:00:00 sshd[1]: bye\n")
	w.wait(t)
	release()
	testutil.WaitFor(t, 30*time.Second, "the record", func() bool { return h.sink.LogRecordCount() == 1 })
	lr := testutil.LogRecords(h.sink.AllLogs())[0]
	assert.Equal(t, "exited.service", attr(lr, logattr.Service))
	assert.Equal(t, "exited.service", attr(lr, logattr.SystemdUnit))
	assert.Equal(t, true, attr(lr, logattr.ServiceTrusted))
	assert.Equal(t, int64(w.cmd.Process.Pid), attr(lr, logattr.PeerPID))
}

// TestDatagramUnit: a datagram sender in a service's cgroup is recorded
// with that unit while it runs.
func TestDatagramUnit(t *testing.T) {
	cg := testCgroup(t, "system.slice/dgram.service")
	h := newHarness(t, func(c *Config) { c.Transport = Datagram })
	w := startChild(t, childOptions{cgroupFD: cg}, childDatagram, h.cfg.Path, "<13>Nov 22 04:00:00 sshd[1]: from a service")
	require.Equal(t, "sent", w.line(t))
	testutil.WaitFor(t, 30*time.Second, "the record", func() bool { return h.sink.LogRecordCount() == 1 })
	lr := testutil.LogRecords(h.sink.AllLogs())[0]
	assert.Equal(t, "dgram.service", attr(lr, logattr.Service))
	assert.Equal(t, "dgram.service", attr(lr, logattr.SystemdUnit))
	assert.Equal(t, true, attr(lr, logattr.ServiceTrusted))
	assert.Equal(t, int64(w.cmd.Process.Pid), attr(lr, logattr.PeerPID))
}

// TestDatagramFromExitedSender: a datagram's sender that exited before
// the datagram is read is still known by its unit, through the pidfd the
// kernel passes with it; once even its cgroup is gone, by its credentials
// only, and then it is not trusted with a unit (nor with whatever process
// has its pid by then).
func TestDatagramFromExitedSender(t *testing.T) {
	path := filepath.Join(shortDir(t), "d.sock")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	defer pc.Close()
	require.NoError(t, passCredentials(pc))
	read := func() peer {
		buf, oob := make([]byte, 100), make([]byte, oobSize)
		_, oobn, _, _, err := pc.ReadMsgUnix(buf, oob)
		require.NoError(t, err)
		p, err := identifyDatagram(oob[:oobn], true, newUnitCache())
		require.NoError(t, err)
		return p
	}
	r := &unixSocketReceiver{cfg: createDefaultConfig().(*Config)}

	cg := testCgroup(t, "system.slice/gone.service")
	w := startChild(t, childOptions{cgroupFD: cg}, childDatagramExit, path, "<13>sshd: bye")
	w.wait(t)
	p := read()
	assert.Equal(t, int32(w.cmd.Process.Pid), p.pid)
	assert.Equal(t, units{system: "gone.service"}, p.units)
	assert.True(t, r.newPeerInfo(p).trusted)

	cg2, dir2 := testCgroupAt(t, "system.slice/removed.service")
	w = startChild(t, childOptions{cgroupFD: cg2}, childDatagramExit, path, "<13>sshd: bye")
	w.wait(t)
	require.NoError(t, unix.Rmdir(dir2))
	p = read()
	assert.Equal(t, int32(w.cmd.Process.Pid), p.pid)
	assert.Equal(t, uint32(os.Getuid()), p.uid)
	assert.False(t, p.unitChecked, "the sender and its cgroup are gone: no unit is trusted")
	assert.False(t, r.newPeerInfo(p).trusted)
}
