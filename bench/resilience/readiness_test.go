//go:build resilience

package resilience

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The sdnotify extension under the built binary: systemd's side of the
// notification protocol is a unix datagram socket the test makes and names
// in NOTIFY_SOCKET.

// notifyWait bounds every wait for a notification from the collector.
const notifyWait = 30 * time.Second

// sdManager is the test's systemd: the socket the collector notifies.
type sdManager struct {
	t    *testing.T
	conn *net.UnixConn
	path string
}

func newSDManager(t *testing.T, dir string) *sdManager {
	t.Helper()
	path := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &sdManager{t: t, conn: conn, path: path}
}

// await returns the notifications up to and including the first with the
// line want, failing the test if none comes within notifyWait.
func (m *sdManager) await(want string) []string {
	m.t.Helper()
	var seen []string
	deadline := time.Now().Add(notifyWait)
	buf := make([]byte, 4096)
	for {
		_ = m.conn.SetReadDeadline(deadline)
		n, err := m.conn.Read(buf)
		if err != nil {
			m.t.Fatalf("waiting for %q: %v; notifications so far: %q", want, err, seen)
		}
		msg := string(buf[:n])
		seen = append(seen, msg)
		if sdHasLine(msg, want) {
			return seen
		}
	}
}

// drain returns what arrives within d (a window in which the test expects
// nothing of interest; bounded by d).
func (m *sdManager) drain(d time.Duration) []string {
	m.t.Helper()
	var seen []string
	deadline := time.Now().Add(d)
	buf := make([]byte, 4096)
	for {
		_ = m.conn.SetReadDeadline(deadline)
		n, err := m.conn.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return seen
		}
		if err != nil {
			m.t.Fatal(err)
		}
		seen = append(seen, string(buf[:n]))
	}
}

// sdLockFile creates path and holds an exclusive flock on it until the
// returned function (or the test's end) releases it.
func sdLockFile(t *testing.T, path string) (unlock func()) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	unlock = func() { once.Do(func() { f.Close() }) }
	t.Cleanup(unlock)
	return unlock
}

func sdHasLine(msg, want string) bool {
	for _, l := range strings.Split(msg, "\n") {
		if l == want || (strings.HasSuffix(want, "=") && strings.HasPrefix(l, want)) {
			return true
		}
	}
	return false
}

func sdCount(msgs []string, want string) int {
	n := 0
	for _, m := range msgs {
		if sdHasLine(m, want) {
			n++
		}
	}
	return n
}

// sdShortDir is a temporary directory with a path short enough for a unix
// socket (108 bytes), which t.TempDir's may not be.
func sdShortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "logx-sd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// writeFIFOAtOnce writes a line to the FIFO without ever waiting: opening
// for writing without blocking fails (ENXIO) unless a reader holds the
// pipe open, and the write fails (EAGAIN) rather than waiting for room.
func writeFIFOAtOnce(path, line string) error {
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open for writing: %w", err)
	}
	defer syscall.Close(fd)
	if _, err := syscall.Write(fd, []byte(line)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func logContains(c *collector, s string) func() bool {
	return func() bool {
		b, _ := os.ReadFile(c.log)
		return strings.Contains(string(b), s)
	}
}

// TestReadyOnlyOnceTheFIFOIsRead starts the collector as systemd would a
// Type=notify unit and checks that READY=1 means what the cutover from
// syslog-ng relies on: the FIFO exists and a reader holds it.
//
// The start is held at a gate the test controls: the exporter's persistent
// queue cannot open its file while the test holds a lock on it (as another
// process still holding the file would), and receivers start only after
// exporters. While held, READY=1 must not come and the FIFO has no reader.
// Once released, the collector is frozen (SIGSTOP) as soon as READY=1
// arrives, so that what the test finds is the state READY=1 was sent in.
// A SIGHUP reload is then announced as RELOADING=1 and READY=1 (STOPPING=1
// there would make systemd kill the collector), and SIGTERM as STOPPING=1.
func TestReadyOnlyOnceTheFIFOIsRead(t *testing.T) {
	dir := sdShortDir(t)
	sd := newSDManager(t, dir)
	fifo := filepath.Join(dir, "app.fifo")
	storage := filepath.Join(dir, "queue")
	if err := os.Mkdir(storage, 0o700); err != nil {
		t.Fatal(err)
	}
	// The file_storage extension names the debug exporter's queue file so.
	unlock := sdLockFile(t, filepath.Join(storage, "exporter_debug__logs"))
	cfg := fmt.Sprintf(`
extensions:
  sdnotify:
  file_storage:
    directory: %s
    timeout: 1m
receivers:
  fifo:
    path: %s
exporters:
  debug:
    verbosity: detailed
    sending_queue:
      storage: file_storage
service:
  extensions: [sdnotify, file_storage]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [fifo]
      exporters: [debug]
`, storage, fifo)
	c := startCollector(t, "readiness", "", cfg, "NOTIFY_SOCKET="+sd.path)

	// Held at the gate: the extension has started, the pipelines have not.
	got := sd.await("STATUS=starting pipelines")
	if n := sdCount(got, "READY=1"); n != 0 {
		t.Fatalf("READY=1 before the pipelines started: %q", got)
	}
	if msgs := sd.drain(300 * time.Millisecond); sdCount(msgs, "READY=1") != 0 {
		t.Fatalf("READY=1 while an exporter was still starting and no receiver had started: %q", msgs)
	}
	if err := writeFIFOAtOnce(fifo, "x\n"); err == nil {
		t.Fatal("the FIFO had a reader while the exporters were still starting: the gate did not hold")
	}
	unlock()

	got = sd.await("READY=1")
	if err := c.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	fi, statErr := os.Lstat(fifo)
	writeErr := writeFIFOAtOnce(fifo, "<14>Nov 22 04:00:00 app[1]: req=ready-marker-1\n")
	if err := c.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if statErr != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("READY=1 came before the FIFO existed: %v %v", statErr, fi)
	}
	if writeErr != nil {
		t.Fatalf("READY=1 came before the FIFO had a reader: %v", writeErr)
	}
	if len(got) != 1 || got[0] != "READY=1\nSTATUS=ready: all pipelines started" {
		t.Errorf("notifications after the gate opened, up to READY=1: %q", got)
	}
	testutil.WaitFor(t, notifyWait, "the line written at READY=1 to be read and exported", logContains(c, "ready-marker-1"))

	// Reload: not a stop.
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	got = sd.await("RELOADING=1")
	got = append(got, sd.await("READY=1")...)
	if n := sdCount(got, "STOPPING=1"); n != 0 {
		t.Fatalf("STOPPING=1 on a SIGHUP reload (systemd would kill the collector): %q", got)
	}
	if !sdHasLine(got[0], "MONOTONIC_USEC=") {
		t.Errorf("RELOADING=1 without MONOTONIC_USEC=: %q", got[0])
	}
	if !c.running() {
		t.Fatal("the collector exited on SIGHUP")
	}
	if err := writeFIFOAtOnce(fifo, "<14>Nov 22 04:00:00 app[1]: req=ready-marker-2\n"); err != nil {
		t.Fatalf("after the reload's READY=1: %v", err)
	}
	testutil.WaitFor(t, notifyWait, "the line written after the reload to be exported", logContains(c, "ready-marker-2"))

	// Stop.
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	got = sd.await("STOPPING=1")
	if n := sdCount(got, "READY=1"); n != 0 {
		t.Errorf("READY=1 while stopping: %q", got)
	}
	select {
	case <-c.done:
	case <-time.After(notifyWait):
		t.Fatal("the collector did not exit after STOPPING=1")
	}
	if c.err != nil {
		t.Fatalf("the collector exited with %v after SIGTERM", c.err)
	}
}

// TestWatchdogStopsWhileThePipelineRefusesData gives the memory limiter a
// limit the process is always above, so that it refuses every record and
// reports a recoverable error: the watchdog pings must stop once the grace
// has passed (systemd then restarts the collector), although the process
// itself is perfectly responsive.
func TestWatchdogStopsWhileThePipelineRefusesData(t *testing.T) {
	dir := sdShortDir(t)
	sd := newSDManager(t, dir)
	fifo := filepath.Join(dir, "app.fifo")
	const grace = time.Second
	cfg := fmt.Sprintf(`
extensions:
  sdnotify:
    watchdog:
      recoverable_error_grace: %s
      heartbeat_interval: 100ms
      heartbeat_timeout: 2s
receivers:
  fifo:
    path: %s
processors:
  memory_limiter:
    check_interval: 100ms
    limit_mib: 1
    spike_limit_mib: 0
exporters:
  debug:
service:
  extensions: [sdnotify]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [fifo]
      processors: [memory_limiter]
      exporters: [debug]
`, grace, fifo)
	c := startCollector(t, "watchdog", "", cfg, "NOTIFY_SOCKET="+sd.path, "WATCHDOG_USEC=200000")

	got := sd.await("READY=1")
	got = append(got, sd.await("WATCHDOG=1")...)
	refusing := time.Now()
	for !strings.Contains(got[len(got)-1], "STATUS=unhealthy, watchdog pings withheld: processor memory_limiter: recoverable error") {
		got = append(got, sd.await("STATUS=")...)
		if time.Since(refusing) > notifyWait {
			t.Fatalf("pings never withheld: %q", got)
		}
	}
	if n := sdCount(got, "WATCHDOG=1"); n < 2 {
		t.Errorf("only %d pings before they were withheld: the grace (%s, pings every 100ms) was not given: %q", n, grace, got)
	}
	// No ping for five ping intervals after that.
	if msgs := sd.drain(500 * time.Millisecond); sdCount(msgs, "WATCHDOG=1") != 0 {
		t.Fatalf("WATCHDOG=1 while the memory limiter refused data beyond the grace: %q", msgs)
	}
	if !c.running() {
		t.Fatal("the collector exited")
	}
	c.stop()
}
