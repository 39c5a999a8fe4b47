package unixsocketreceiver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// TestUnitsOfCgroup: the system unit is the first unit under the slices,
// as the journal reads it, and nothing below it counts: a user's own
// manager (user@1000.service, which may make cgroups of any name under
// it) is the system unit of everything it runs, and the user's unit is
// told apart; a container's scope is the unit of what runs inside.
func TestUnitsOfCgroup(t *testing.T) {
	for path, want := range map[string]units{
		"/system.slice/nginx.service":                                          {system: "nginx.service"},
		"/system.slice/system-getty.slice/getty@tty1.service":                  {system: "getty@tty1.service"},
		"/user.slice/user-1000.slice/user@1000.service/app.slice/sshd.service": {system: "user@1000.service", user: "sshd.service"},
		"/user.slice/user-1000.slice/user@1000.service/sshd.service":           {system: "user@1000.service", user: "sshd.service"},
		"/user.slice/user-1000.slice/user@1000.service/init.scope":             {system: "user@1000.service", user: "init.scope"},
		"/user.slice/user-1000.slice/user@1000.service":                        {system: "user@1000.service"},
		"/user.slice/user-1000.slice/session-3.scope":                          {system: "session-3.scope"},
		"/system.slice/docker-abc.scope/system.slice/sshd.service":             {system: "docker-abc.scope"},
		"/system.slice/app.service/sshd.service":                               {system: "app.service"},
		"/init.scope":                                                          {system: "init.scope"},
		"/":                                                                    {},
		"":                                                                     {},
		"/process_api/2141f8607431":                                            {},
		"/custom/system.slice/sshd.service":                                    {},
		"/system.slice/.service":                                               {},
	} {
		assert.Equal(t, want, unitsOfCgroup(path), path)
	}
}

// TestCgroupFromFile: the unified hierarchy's line is read when it names
// a unit, else the named systemd hierarchy's (v1 and hybrid hosts).
func TestCgroupFromFile(t *testing.T) {
	for content, want := range map[string]string{
		"12:cpu:/x\n1:name=systemd:/system.slice/old.service\n0::/system.slice/cron.service\n": "/system.slice/cron.service",
		"1:name=systemd:/system.slice/cron.service\n0::/\n":                                    "/system.slice/cron.service",
		"0::/user.slice/user-1000.slice/user@1000.service/app.slice/sshd.service\n":            "/user.slice/user-1000.slice/user@1000.service/app.slice/sshd.service",
		"4:memory:/a\n0::/\n": "/",
	} {
		p := filepath.Join(t.TempDir(), "cgroup")
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		got, ok := cgroupFromFile(p)
		assert.True(t, ok, content)
		assert.Equal(t, want, got, content)
	}
	_, ok := cgroupFromFile(filepath.Join(t.TempDir(), "gone"))
	assert.False(t, ok)
}

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

func attr(lr plog.LogRecord, key string) any {
	v, ok := lr.Attributes().Get(key)
	if !ok {
		return nil
	}
	return v.AsRaw()
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
	waitUntil(t, "the record", func() bool { return h.sink.LogRecordCount() == 1 })
	lr := records(h.sink)[0]
	assert.Equal(t, "user@1000.service", attr(lr, logattr.Service))
	assert.Equal(t, "user@1000.service", attr(lr, logattr.SystemdUnit))
	assert.Equal(t, "sshd.service", attr(lr, logattr.SystemdUserUnit))
	assert.Equal(t, true, attr(lr, logattr.ServiceTrusted))
	assert.Equal(t, int64(w.cmd.Process.Pid), attr(lr, logattr.PeerPID))
}

// holdAccepts makes the receiver's accept loop wait until the returned
// function is called: connections wait in the socket's backlog meanwhile.
// Call before the receiver starts; the hook is put back after the test.
func holdAccepts(t *testing.T) (release func()) {
	gate := make(chan struct{})
	done := t.Context().Done() // a failed test must not leave the receiver's stop waiting
	prev := beforeAccept
	beforeAccept = func() {
		select {
		case <-gate:
		case <-done:
		}
	}
	t.Cleanup(func() { beforeAccept = prev }) // after the receiver's stop, registered later
	return sync.OnceFunc(func() { close(gate) })
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
	waitUntil(t, "the record", func() bool { return h.sink.LogRecordCount() == 1 })
	lr := records(h.sink)[0]
	assert.Equal(t, "exited.service", attr(lr, logattr.Service))
	assert.Equal(t, "exited.service", attr(lr, logattr.SystemdUnit))
	assert.Equal(t, true, attr(lr, logattr.ServiceTrusted))
	assert.Equal(t, int64(w.cmd.Process.Pid), attr(lr, logattr.PeerPID))
}

// TestUnknownUnitIsNotTheAppName: a writer whose unit is not known (here
// the test's processes, in no unit) is not trusted with the app name it
// writes: its service identity is its uid, from the kernel, the record
// says it is untrusted, and the app name is kept as the claim it is.
func TestUnknownUnitIsNotTheAppName(t *testing.T) {
	if u, ok := unitsOfPID(int32(os.Getpid())); ok && u.system != "" {
		t.Skipf("the test runs in the unit %s: its writers are known", u.system)
	}
	release := holdAccepts(t)
	h := newHarness(t, nil)
	w := startChild(t, childOptions{cgroupFD: -1}, childWrite, h.cfg.Path, "<13>Nov 22 04:00:00 sshd[1]: hello\n")
	w.wait(t)
	release()
	waitUntil(t, "the record", func() bool { return h.sink.LogRecordCount() == 1 })
	lr := records(h.sink)[0]
	assert.Equal(t, uidService(uint32(os.Getuid())), attr(lr, logattr.Service))
	assert.Equal(t, "sshd", attr(lr, logattr.ServiceClaimed))
	assert.Equal(t, false, attr(lr, logattr.ServiceTrusted))
	assert.Nil(t, attr(lr, logattr.SystemdUnit))
	assert.Equal(t, int64(os.Getuid()), attr(lr, logattr.PeerUID))
}

// TestUntrustedServiceAppName: untrusted_service: app_name keeps the app
// name as the service of writers without a unit, still marked untrusted.
func TestUntrustedServiceAppName(t *testing.T) {
	if u, ok := unitsOfPID(int32(os.Getpid())); ok && u.system != "" {
		t.Skipf("the test runs in the unit %s: its writers are known", u.system)
	}
	h := newHarness(t, func(c *Config) { c.Peer.UntrustedService = UntrustedAppName; c.DefaultService = "other" })
	c := h.dial()
	_, err := c.Write([]byte("<13>myapp: one\nno header\n"))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	waitUntil(t, "the records", func() bool { return h.sink.LogRecordCount() == 2 })
	recs := records(h.sink)
	assert.Equal(t, "myapp", attr(recs[0], logattr.Service))
	assert.Equal(t, "myapp", attr(recs[0], logattr.ServiceClaimed))
	assert.Equal(t, false, attr(recs[0], logattr.ServiceTrusted))
	assert.Equal(t, "other", attr(recs[1], logattr.Service))
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
	waitUntil(t, "the record", func() bool { return h.sink.LogRecordCount() == 1 })
	lr := records(h.sink)[0]
	assert.Equal(t, int64(w.cmd.Process.Pid), attr(lr, logattr.PeerPID))
	assert.Equal(t, int64(nobody), attr(lr, logattr.PeerUID))
	assert.Equal(t, int64(nobody), attr(lr, logattr.PeerGID))
	assert.Equal(t, uidService(nobody), attr(lr, logattr.Service))
	assert.Equal(t, "sshd", attr(lr, logattr.ServiceClaimed))
	assert.Equal(t, false, attr(lr, logattr.ServiceTrusted))
}

// TestDatagramUnit: a datagram sender in a service's cgroup is recorded
// with that unit while it runs.
func TestDatagramUnit(t *testing.T) {
	cg := testCgroup(t, "system.slice/dgram.service")
	h := newHarness(t, func(c *Config) { c.Transport = Datagram })
	w := startChild(t, childOptions{cgroupFD: cg}, childDatagram, h.cfg.Path, "<13>Nov 22 04:00:00 sshd[1]: from a service")
	require.Equal(t, "sent", w.line(t))
	waitUntil(t, "the record", func() bool { return h.sink.LogRecordCount() == 1 })
	lr := records(h.sink)[0]
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

func TestWithoutCredentialsTheServiceIsTheClaimedAppName(t *testing.T) {
	// peer.credentials off: the kernel says nothing about the writer, so
	// the app name is the only service there is (the rate limiter and the
	// tenant buffers key on it), marked untrusted.
	r := &unixSocketReceiver{cfg: createDefaultConfig().(*Config)}
	r.cfg.Peer.Credentials, r.cfg.Peer.SystemdUnit = false, false
	pi := r.newPeerInfo(peer{})
	lr := plog.NewLogRecord()
	lr.Attributes().PutStr(logattr.SyslogAppName, "billing")
	pi.decorate(lr)
	svc, _ := lr.Attributes().Get(logattr.Service)
	trusted, _ := lr.Attributes().Get(logattr.ServiceTrusted)
	assert.Equal(t, "billing", svc.Str())
	assert.False(t, trusted.Bool())
}
