package unixsocketreceiver

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
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

func attr(lr plog.LogRecord, key string) any {
	v, ok := lr.Attributes().Get(key)
	if !ok {
		return nil
	}
	return v.AsRaw()
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
	testutil.WaitFor(t, 30*time.Second, "the record", func() bool { return h.sink.LogRecordCount() == 1 })
	lr := testutil.LogRecords(h.sink.AllLogs())[0]
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
	testutil.WaitFor(t, 30*time.Second, "the records", func() bool { return h.sink.LogRecordCount() == 2 })
	recs := testutil.LogRecords(h.sink.AllLogs())
	assert.Equal(t, "myapp", attr(recs[0], logattr.Service))
	assert.Equal(t, "myapp", attr(recs[0], logattr.ServiceClaimed))
	assert.Equal(t, false, attr(recs[0], logattr.ServiceTrusted))
	assert.Equal(t, "other", attr(recs[1], logattr.Service))
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
