//go:build resilience

package resilience

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The activation tests play systemd's socket activation: the test process
// makes the FIFO and the listening unix stream socket, keeps them, and
// starts the collector with them at fd 3 and 4 and LISTEN_FDS, LISTEN_PID
// and LISTEN_FDNAMES set as systemd does. A writer process writes into
// both while the collector is stopped and started again.

// actWriterSource is the writer process: a plain program, so that its
// write latencies are not disturbed by the test's own runtime. It writes
// numbered lines at a rate into the FIFO (kept open, writes of at most
// PIPE_BUF bytes, which the kernel keeps whole) and the socket (a
// connection per write, as logger(1) does), and prints a JSON summary:
// ids sent, errors by kind, the longest write.
const actWriterSource = `package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
)

type summary struct {
	FIFOFirst, FIFOLast, SockFirst, SockLast uint64
	Errors                                   map[string]int
	MaxWriteNS                               int64
	WritesOver100ms                          int
}

func main() {
	fifo, sock := os.Args[1], os.Args[2]
	rate, _ := strconv.Atoi(os.Args[3])
	d, _ := time.ParseDuration(os.Args[4])
	s := summary{FIFOFirst: 1 << 32, SockFirst: 2 << 32, Errors: map[string]int{}}
	s.FIFOLast, s.SockLast = s.FIFOFirst-1, s.SockFirst-1
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		fmt.Println("open fifo:", err)
		os.Exit(2)
	}
	kind := func(err error) string {
		for _, e := range []syscall.Errno{syscall.EPIPE, syscall.ECONNREFUSED, syscall.ENOENT, syscall.ECONNRESET, syscall.EAGAIN} {
			if errors.Is(err, e) {
				return e.Error()
			}
		}
		return err.Error()
	}
	timed := func(fn func() error) {
		start := time.Now()
		if err := fn(); err != nil {
			s.Errors[kind(err)]++
		}
		took := time.Since(start)
		if took > 100*time.Millisecond {
			s.WritesOver100ms++
		}
		s.MaxWriteNS = max(s.MaxWriteNS, took.Nanoseconds())
	}
	// Every 10 ms, rate/100 lines to each, in writes of up to 20 lines.
	perTick := max(1, rate/100)
	tick := time.NewTicker(10 * time.Millisecond)
	end := time.Now().Add(d)
	buf := make([]byte, 0, 4096)
	for time.Now().Before(end) {
		<-tick.C
		for sent := 0; sent < perTick; {
			n := min(20, perTick-sent)
			buf = buf[:0]
			for i := range n {
				buf = fmt.Appendf(buf, "<14>Nov 22 04:00:00 w[1]: req=%016x fifo\n", s.FIFOLast+1+uint64(i))
			}
			timed(func() error { _, err := f.Write(buf); return err })
			s.FIFOLast += uint64(n)
			buf = buf[:0]
			for i := range n {
				buf = fmt.Appendf(buf, "<14>Nov 22 04:00:00 w[1]: req=%016x sock\n", s.SockLast+1+uint64(i))
			}
			timed(func() error {
				c, err := net.DialTimeout("unix", sock, time.Second)
				if err != nil {
					return err
				}
				defer c.Close()
				_, err = c.Write(buf)
				return err
			})
			s.SockLast += uint64(n)
			sent += n
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(s)
}
`

// actWriterSummary is what the writer prints.
type actWriterSummary struct {
	FIFOFirst, FIFOLast, SockFirst, SockLast uint64
	Errors                                   map[string]int
	MaxWriteNS                               int64
	WritesOver100ms                          int
}

// sentIDs lists the ids of every line the writer sent, FIFO then socket.
func (s actWriterSummary) sentIDs() []uint64 {
	var ids []uint64
	for id := s.FIFOFirst; id <= s.FIFOLast; id++ {
		ids = append(ids, id)
	}
	for id := s.SockFirst; id <= s.SockLast; id++ {
		ids = append(ids, id)
	}
	return ids
}

// buildActWriter compiles the writer program (standard library only).
func buildActWriter(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "writer.go")
	if err := os.WriteFile(src, []byte(actWriterSource), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "writer")
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Dir = dir // outside the module: a program of the standard library only
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the writer: %v\n%s", err, out)
	}
	return bin
}

// actRig is one host: a FIFO and a stream socket delivered to a logfile.
type actRig struct {
	t                  *testing.T
	dir                string // short: socket paths are at most 107 bytes
	fifo, sock, out    string
	cfg, metricsURL    string
	fifoFile, sockFile *os.File // held as systemd holds them (activation only)
	starts             int
}

func newActRig(t *testing.T) *actRig {
	dir, err := os.MkdirTemp("/tmp", "act")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	r := &actRig{t: t, dir: dir, fifo: filepath.Join(dir, "apps.fifo"), sock: filepath.Join(dir, "syslog.sock"),
		out: filepath.Join(dir, "all.log"), cfg: filepath.Join(dir, "config.yaml")}
	port := testutil.FreeTCPPort(t)
	r.metricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	config := fmt.Sprintf(`
receivers:
  fifo/apps: {path: %q}
  unixsocket/syslog: {path: %q, transport: stream}
exporters:
  logfile:
    path: %q
    format: text
    flush: {interval: 0s}
service:
  telemetry:
    metrics:
      level: normal
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}
  pipelines:
    logs: {receivers: [fifo/apps, unixsocket/syslog], exporters: [logfile]}
`, r.fifo, r.sock, r.out, port)
	if err := os.WriteFile(r.cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return r
}

// holdDescriptors makes the FIFO and the socket as systemd's ListenFIFO=
// and ListenStream= do, and keeps them for every start.
func (r *actRig) holdDescriptors() {
	t := r.t
	if err := syscall.Mkfifo(r.fifo, 0o620); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(r.fifo, os.O_RDWR, 0) // as systemd: read-write
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: r.sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false) // systemd's RemoveOnStop=no
	s, err := l.File()
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	r.fifoFile, r.sockFile = f, s
	t.Cleanup(func() { f.Close(); s.Close() })
}

// start runs the collector; with held descriptors, as systemd starts it:
// they become fd 3 and 4, and the shell sets LISTEN_PID to its own pid
// ($$) before it execs the collector, which keeps that pid.
func (r *actRig) start() *collector {
	t := r.t
	t.Helper()
	r.starts++
	name := fmt.Sprintf("start%d", r.starts)
	var cmd *exec.Cmd
	if r.fifoFile != nil {
		cmd = exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`, binary(t), "--config="+r.cfg)
		cmd.ExtraFiles = []*os.File{r.fifoFile, r.sockFile}
		cmd.Env = append(os.Environ(), "LISTEN_FDS=2", "LISTEN_FDNAMES=apps.fifo:syslog.sock")
	} else {
		cmd = exec.Command(binary(t), "--config="+r.cfg)
	}
	return runCollector(t, r.dir, name, cmd)
}

// ready waits until c runs its pipelines; with held descriptors, both
// receivers must have said that they took the inherited ones.
func (r *actRig) ready(c *collector) {
	r.t.Helper()
	testutil.WaitFor(r.t, 30*time.Second, "the collector ready", func() bool {
		if !c.running() {
			r.t.Fatalf("collector exited: %v", c.err)
		}
		b, _ := os.ReadFile(c.log)
		return bytes.Contains(b, []byte("Everything is ready"))
	})
	if r.fifoFile != nil {
		b, _ := os.ReadFile(c.log)
		if n := bytes.Count(b, []byte("inherited from the service manager")); n != 2 {
			r.t.Errorf("%d receivers took an inherited descriptor, want 2", n)
		}
	}
}

// outSize is the size of the logfile output.
func (r *actRig) outSize() int64 {
	fi, err := os.Stat(r.out)
	if err != nil {
		return 0
	}
	return fi.Size()
}

var actDroppedRe = regexp.MustCompile(`^otelcol_logx_(fifo|unixsocket)_dropped_records`)

// droppedNow sums the receivers' drop counters of the running collector.
func (r *actRig) droppedNow() float64 {
	m, err := metrics(r.metricsURL, actDroppedRe)
	if err != nil {
		return 0
	}
	var n float64
	for _, v := range m {
		n += v
	}
	return n
}

var actShutdownDropRe = regexp.MustCompile(`reason shutdown\).*"records": (\d+)`)

// shutdownDrops reads the count of the one shutdown line of a collector log.
func shutdownDrops(log string) int {
	b, _ := os.ReadFile(log)
	n := 0
	for _, m := range actShutdownDropRe.FindAllSubmatch(b, -1) {
		v, _ := strconv.Atoi(string(m[1]))
		n += v
	}
	return n
}

// deliveredIDs counts each id in the logfile output.
func (r *actRig) deliveredIDs() idSet {
	got := idSet{}
	b, _ := os.ReadFile(r.out)
	for _, line := range bytes.Split(b, []byte("\n")) {
		if id, ok := lineID(line); ok {
			got[id]++
		}
	}
	return got
}

// TestActivationRestartsLoseNothing: with the FIFO and the socket held by
// a stand-in for systemd, a writer at 10,000 lines/s into each never gets
// an error nor waits 100 ms while the collector is stopped (SIGTERM) and
// started three times (and reloaded once), and every line is delivered
// exactly once or counted as dropped.
func TestActivationRestartsLoseNothing(t *testing.T) {
	writer := buildActWriter(t)
	r := newActRig(t)
	r.holdDescriptors()
	const rate = 10_000
	restarts := 3
	run := time.Duration(2+3*restarts) * time.Second

	c := r.start()
	r.ready(c)
	// pipe_size (1 MiB by default) applies to the inherited FIFO too:
	// what is written while the collector restarts waits in the pipe.
	// (Through Control: Fd would make the pipe, shared with the collector,
	// blocking.)
	raw, err := r.fifoFile.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	size, serr := 0, error(nil)
	if err := raw.Control(func(fd uintptr) { size, serr = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) }); err != nil || serr != nil || size < 1<<20 {
		t.Fatalf("inherited FIFO's pipe: %d bytes (%v %v), want at least 1 MiB", size, err, serr)
	}
	var wout bytes.Buffer
	w := exec.Command(writer, r.fifo, r.sock, strconv.Itoa(rate), run.String())
	w.Stdout, w.Stderr = &wout, &wout
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	wdone := make(chan error, 1)
	go func() { wdone <- w.Wait() }()
	t.Cleanup(func() {
		if w.ProcessState == nil {
			_ = w.Process.Kill()
		}
	})

	// An in-process reload (systemctl reload: SIGHUP) first: the new
	// receivers get the inherited descriptors back from the old ones.
	before := r.outSize()
	testutil.WaitFor(t, 20*time.Second, "deliveries before the reload", func() bool {
		return r.outSize() > before+int64(rate)*60
	})
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "the reload done", func() bool {
		b, _ := os.ReadFile(c.log)
		return bytes.Count(b, []byte("Everything is ready")) >= 2
	})
	if b, _ := os.ReadFile(c.log); bytes.Count(b, []byte("inherited from the service manager")) != 4 {
		t.Errorf("after the reload the receivers did not take the inherited descriptors again")
	}

	var dropped float64
	var logs []string
	for i := range restarts {
		// Let the writer write for a while into the running collector:
		// wait until the output grew.
		before := r.outSize()
		testutil.WaitFor(t, 20*time.Second, fmt.Sprintf("deliveries before restart %d", i+1), func() bool {
			return r.outSize() > before+int64(rate)*60 // a second's worth of lines
		})
		dropped += r.droppedNow()
		stopAt := time.Now()
		c.stop()
		logs = append(logs, c.log)
		c = r.start()
		r.ready(c)
		t.Logf("restart %d: stopped and started again in %v", i+1, time.Since(stopAt).Round(time.Millisecond))
	}
	select {
	case err := <-wdone:
		if err != nil {
			t.Fatalf("writer: %v\n%s", err, wout.String())
		}
	case <-time.After(run + 30*time.Second):
		t.Fatal("the writer did not finish")
	}
	var s actWriterSummary
	if err := json.Unmarshal(wout.Bytes(), &s); err != nil {
		t.Fatalf("writer output: %v\n%s", err, wout.String())
	}
	sent := s.FIFOLast - s.FIFOFirst + 1 + s.SockLast - s.SockFirst + 1
	t.Logf("writer: %d lines, errors %v, longest write %v, writes over 100 ms %d",
		sent, s.Errors, time.Duration(s.MaxWriteNS), s.WritesOver100ms)
	if len(s.Errors) != 0 {
		t.Errorf("the writer got errors across restarts: %v", s.Errors)
	}
	if s.WritesOver100ms != 0 {
		t.Errorf("%d writes took over 100 ms (longest %v)", s.WritesOver100ms, time.Duration(s.MaxWriteNS))
	}

	// Every line delivered once, or counted as dropped.
	want := s.sentIDs()
	var missing int
	var got idSet
	testutil.WaitFor(t, 30*time.Second, "every line delivered or counted", func() bool {
		got = r.deliveredIDs()
		missing, _ = got.missing(want)
		return float64(missing) <= dropped+float64(shutdownDropsOf(logs))
	}, func() string {
		_, first := got.missing(want)
		return fmt.Sprintf("%d missing (first %x), %v dropped", missing, first, dropped)
	})
	dropped += r.droppedNow()
	c.stop()
	logs = append(logs, c.log)
	counted := dropped + float64(shutdownDropsOf(logs))
	missing, first := got.missing(want)
	t.Logf("sent %d, delivered %d, missing %d (first %x), counted as dropped %v, duplicates %d",
		len(want), len(want)-missing, missing, first, counted, got.duplicates())
	if float64(missing) != counted {
		t.Errorf("%d lines missing but %v counted as dropped", missing, counted)
	}
	if d := got.duplicates(); d != 0 {
		t.Errorf("%d lines delivered twice", d)
	}
	if len(got) != len(want)-missing {
		t.Errorf("%d ids delivered that were never sent", len(got)-(len(want)-missing))
	}
}

func shutdownDropsOf(logs []string) int {
	n := 0
	for _, l := range logs {
		n += shutdownDrops(l)
	}
	return n
}

// restartGap is how long, across one restart, the FIFO had no reader and
// the socket refused or was missing, probed every millisecond.
type restartGap struct{ fifoNoReader, sockDown time.Duration }

// probeRestart restarts c (SIGTERM, then a new start) while probing, and
// returns the new collector and the gaps seen.
func (r *actRig) probeRestart(c *collector) (*collector, restartGap) {
	var g restartGap
	stop := make(chan struct{})
	done := make(chan restartGap, 1)
	go func() {
		var gap restartGap
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				done <- gap
				return
			case now := <-tick.C:
				step := now.Sub(last)
				last = now
				// Opening for writing without blocking fails with ENXIO
				// exactly when no process has the FIFO open for reading.
				if f, err := os.OpenFile(r.fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err != nil {
					gap.fifoNoReader += step
				} else {
					f.Close()
				}
				if conn, err := net.DialTimeout("unix", r.sock, 100*time.Millisecond); err != nil {
					gap.sockDown += step
				} else {
					conn.Close()
				}
			}
		}
	}()
	c.stop()
	c = r.start()
	r.ready(c)
	close(stop)
	g = <-done
	return c, g
}

// TestActivationRestartGap measures, across a restart, how long the FIFO
// has no reader and the socket cannot be connected to: without socket
// activation (the collector makes both) and with it (never).
func TestActivationRestartGap(t *testing.T) {
	for _, activation := range []bool{false, true} {
		t.Run(map[bool]string{false: "without", true: "with"}[activation], func(t *testing.T) {
			r := newActRig(t)
			if activation {
				r.holdDescriptors()
			}
			c := r.start()
			r.ready(c)
			var worst restartGap
			for range 3 {
				var g restartGap
				c, g = r.probeRestart(c)
				worst.fifoNoReader = max(worst.fifoNoReader, g.fifoNoReader)
				worst.sockDown = max(worst.sockDown, g.sockDown)
			}
			c.stop()
			t.Logf("activation=%v: longest restart gap (3 restarts): FIFO without reader %v, socket refused or missing %v",
				activation, worst.fifoNoReader.Round(time.Millisecond), worst.sockDown.Round(time.Millisecond))
			if activation && (worst.fifoNoReader != 0 || worst.sockDown != 0) {
				t.Errorf("with activation the FIFO and the socket must never be without a reader")
			}
			if !activation && (worst.fifoNoReader == 0 || worst.sockDown == 0) {
				t.Errorf("without activation a restart must show a gap (the probe did not see one): is the probe working?")
			}
		})
	}
}

// TestReloadKeepsPipeAndSocket: without socket activation, an in-process
// reload (SIGHUP) makes new receivers, which take over the FIFO's read end
// and the listening socket from the old ones instead of closing and
// making them again: a writer at 10,000 lines/s into each gets no error
// across two reloads, and every line is delivered once.
func TestReloadKeepsPipeAndSocket(t *testing.T) {
	writer := buildActWriter(t)
	r := newActRig(t)
	c := r.start()
	r.ready(c)
	const rate = 10_000
	run := 6 * time.Second
	var wout bytes.Buffer
	w := exec.Command(writer, r.fifo, r.sock, strconv.Itoa(rate), run.String())
	w.Stdout, w.Stderr = &wout, &wout
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	wdone := make(chan error, 1)
	go func() { wdone <- w.Wait() }()
	t.Cleanup(func() {
		if w.ProcessState == nil {
			_ = w.Process.Kill()
		}
	})
	kept := func() int {
		b, _ := os.ReadFile(c.log)
		return bytes.Count(b, []byte("kept open across a reload by this process"))
	}
	for i := range 2 {
		before := r.outSize()
		testutil.WaitFor(t, 20*time.Second, fmt.Sprintf("deliveries before reload %d", i+1), func() bool {
			return r.outSize() > before+int64(rate)*60
		})
		if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, 30*time.Second, fmt.Sprintf("reload %d done", i+1), func() bool {
			b, _ := os.ReadFile(c.log)
			return bytes.Count(b, []byte("Everything is ready")) >= i+2
		})
	}
	if n := kept(); n != 4 {
		t.Errorf("the receivers took the FIFO and the socket over %d times in two reloads, want 4", n)
	}
	select {
	case err := <-wdone:
		if err != nil {
			t.Fatalf("writer: %v\n%s", err, wout.String())
		}
	case <-time.After(run + 30*time.Second):
		t.Fatal("the writer did not finish")
	}
	var s actWriterSummary
	if err := json.Unmarshal(wout.Bytes(), &s); err != nil {
		t.Fatalf("writer output: %v\n%s", err, wout.String())
	}
	t.Logf("writer: errors %v, longest write %v", s.Errors, time.Duration(s.MaxWriteNS))
	if len(s.Errors) != 0 {
		t.Errorf("the writer got errors across reloads: %v", s.Errors)
	}
	want := s.sentIDs()
	var missing int
	var got idSet
	testutil.WaitFor(t, 30*time.Second, "every line delivered", func() bool {
		got = r.deliveredIDs()
		missing, _ = got.missing(want)
		return missing == 0
	}, func() string { return fmt.Sprintf("%d missing", missing) })
	c.stop()
	missing, first := got.missing(want)
	counted := shutdownDropsOf([]string{c.log})
	t.Logf("sent %d, missing %d (first %x), duplicates %d", len(want), missing, first, got.duplicates())
	if missing != 0 || counted != 0 {
		t.Errorf("%d lines missing (%d counted at shutdown): a live downstream takes everything", missing, counted)
	}
	if d := got.duplicates(); d != 0 {
		t.Errorf("%d lines delivered twice", d)
	}
}
