package sdnotifyextension

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/extension/sdnotifyextension/internal/metadata"
)

// waitFor bounds every wait for a notification.
const waitFor = 10 * time.Second

// manager is the test's stand-in for systemd's side of the protocol: a
// real unix datagram socket, named in $NOTIFY_SOCKET for the test.
type manager struct {
	t    *testing.T
	conn *net.UnixConn
	name string
}

// listenManager makes the socket (a path, or an abstract name) and points
// $NOTIFY_SOCKET at it.
func listenManager(t *testing.T, abstract bool) *manager {
	t.Helper()
	var name string
	if abstract {
		name = "@logx-sdnotify-test-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	} else {
		// os.MkdirTemp, not t.TempDir: a socket path is limited to 108 bytes.
		dir, err := os.MkdirTemp("", "sdn")
		require.NoError(t, err)
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		name = filepath.Join(dir, "notify.sock")
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	t.Setenv("NOTIFY_SOCKET", name)
	return &manager{t: t, conn: conn, name: name}
}

// next returns the next notification, failing the test if none comes
// within d.
func (m *manager) next(d time.Duration) string {
	m.t.Helper()
	msg, ok := m.read(d)
	if !ok {
		m.t.Fatalf("no notification within %s", d)
	}
	return msg
}

func (m *manager) read(d time.Duration) (string, bool) {
	buf := make([]byte, 4096)
	require.NoError(m.t, m.conn.SetReadDeadline(time.Now().Add(d)))
	n, err := m.conn.Read(buf)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "", false
	}
	require.NoError(m.t, err)
	return string(buf[:n]), true
}

// queued returns the notifications already in the socket's queue. The
// extension sends synchronously, so after a call into it returns, what
// it sent is queued.
//
// It asks the socket without waiting (MSG_DONTWAIT), not with a short
// deadline: on a loaded machine a deadline can pass before the read is
// even tried, and queued notifications would look absent.
func (m *manager) queued() []string {
	raw, err := m.conn.SyscallConn()
	require.NoError(m.t, err)
	var out []string
	buf := make([]byte, 4096)
	for {
		var n int
		var rerr error
		require.NoError(m.t, raw.Control(func(fd uintptr) {
			n, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
		}))
		if errors.Is(rerr, unix.EAGAIN) {
			return out
		}
		require.NoError(m.t, rerr)
		out = append(out, string(buf[:n]))
	}
}

// until returns the notifications up to and including the first that has
// the line want.
func (m *manager) until(want string) []string {
	m.t.Helper()
	var seen []string
	deadline := time.Now().Add(waitFor)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			m.t.Fatalf("no notification with %q within %s; got %q", want, waitFor, seen)
		}
		msg := m.next(left)
		seen = append(seen, msg)
		if hasLine(msg, want) {
			return seen
		}
	}
}

// hasLine reports whether the notification has the line want, or, for a
// want ending in "=", a line of that variable.
func hasLine(msg, want string) bool {
	for _, l := range strings.Split(msg, "\n") {
		if l == want || (strings.HasSuffix(want, "=") && strings.HasPrefix(l, want)) {
			return true
		}
	}
	return false
}

func countLine(msgs []string, want string) int {
	n := 0
	for _, m := range msgs {
		if hasLine(m, want) {
			n++
		}
	}
	return n
}

// statusHost is a component.Host with a status reporter: like the
// collector's, it hands every reported status to the watcher. block makes
// it hang, as a wedged reporter would.
type statusHost struct {
	watcher componentstatus.Watcher
	self    *componentstatus.InstanceID

	mu      sync.Mutex
	blocked chan struct{} // non-nil: Report waits until it is closed
}

func (h *statusHost) GetExtensions() map[component.ID]component.Component { return nil }

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	gate := h.blocked
	h.mu.Unlock()
	if gate != nil {
		<-gate
	}
	h.watcher.ComponentStatusChanged(h.self, ev)
}

func (h *statusHost) block() {
	h.mu.Lock()
	h.blocked = make(chan struct{})
	h.mu.Unlock()
}

func (h *statusHost) unblock() {
	h.mu.Lock()
	close(h.blocked)
	h.blocked = nil
	h.mu.Unlock()
}

// harness is one extension on a statusHost, with its telemetry.
type harness struct {
	t    *testing.T
	ext  *sdNotify
	host *statusHost
	tel  *componenttest.Telemetry
}

func testConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Watchdog.HeartbeatInterval = 20 * time.Millisecond
	cfg.Watchdog.HeartbeatTimeout = 2 * time.Second
	return cfg
}

func startHarness(t *testing.T, cfg *Config, reloads *reloadSignals) *harness {
	t.Helper()
	require.NoError(t, confmap.Validate(cfg))
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := extensiontest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	ext, err := newExtension(set, cfg, reloads)
	require.NoError(t, err)
	host := &statusHost{watcher: ext, self: componentstatus.NewInstanceID(set.ID, component.KindExtension)}
	require.NoError(t, ext.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	return &harness{t: t, ext: ext, host: host, tel: tel}
}

// report delivers a component's status event to the extension, as the
// collector's reporter does.
func (h *harness) report(kind component.Kind, id string, ev *componentstatus.Event) {
	var cid component.ID
	require.NoError(h.t, cid.UnmarshalText([]byte(id)))
	h.ext.ComponentStatusChanged(componentstatus.NewInstanceID(cid, kind), ev)
}

// sum is the value of a counter, over the data points whose attribute
// key has value val (all of them if key is empty).
func (h *harness) sum(name, key, val string) int64 {
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var total int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if key != "" {
			if v, ok := dp.Attributes.Value(attribute.Key(key)); !ok || v.AsString() != val {
				continue
			}
		}
		total += dp.Value
	}
	return total
}

// gauge is the last value of a gauge.
func (h *harness) gauge(name string) (int64, bool) {
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return 0, false
	}
	dps := m.Data.(metricdata.Gauge[int64]).DataPoints
	if len(dps) == 0 {
		return 0, false
	}
	return dps[len(dps)-1].Value, true
}
