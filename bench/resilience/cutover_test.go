//go:build resilience

package resilience

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The cutover from syslog-ng to otelcol-logx, and the rollback, on a named
// pipe written at 10,000 lines/s: the real cutover script
// (distribution/systemd/cutover), the real syslog-ng, the built collector,
// and a stand-in for systemd (cutover_systemd_test.go) that follows the
// unit files. What this does not cover, because there is no systemd here:
// systemd's own job ordering and Type=notify handling, the enable/disable
// symlinks, socket activation by systemd itself; the units are checked by
// `systemd-analyze verify` in distribution/package/test.sh.

const (
	cutoverRate     = 10_000 // lines/s
	cutoverMaxBlock = 100 * time.Millisecond
	cutoverLineLen  = 180
)

// cutoverLine is line seq: "seq=000000042 xxxx...\n", cutoverLineLen bytes.
func cutoverLine(seq uint64) []byte {
	b := fmt.Appendf(nil, "seq=%09d ", seq)
	b = append(b, bytes.Repeat([]byte{'x'}, cutoverLineLen-1-len(b))...)
	return append(b, '\n')
}

var cutoverLineRe = regexp.MustCompile(`^seq=(\d{9}) x+$`)

// fifoWriter writes numbered lines into a FIFO at a fixed rate, one write
// per line as applications do, and keeps the longest time a write took.
type fifoWriter struct {
	written  atomic.Uint64 // lines 1..written were written
	maxBlock atomic.Int64  // ns
	err      atomic.Value
	stop     chan struct{}
	done     chan struct{}
}

func startFIFOWriter(t *testing.T, path string, rate int, limit time.Duration) *fifoWriter {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := &fifoWriter{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer f.Close()
		start := time.Now()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var seq uint64
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			elapsed := time.Since(start)
			if elapsed > limit {
				w.err.Store(fmt.Errorf("writer ran into its %s limit", limit))
				return
			}
			for want := uint64(elapsed.Seconds() * float64(rate)); seq < want; {
				seq++
				t0 := time.Now()
				_, err := f.Write(cutoverLine(seq))
				if d := time.Since(t0).Nanoseconds(); d > w.maxBlock.Load() {
					w.maxBlock.Store(d)
				}
				if err != nil {
					w.err.Store(fmt.Errorf("write %d: %w", seq, err))
					return
				}
				w.written.Store(seq)
			}
		}
	}()
	t.Cleanup(w.finish)
	return w
}

// finish stops the writer; safe to call twice.
func (w *fifoWriter) finish() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// waitWritten waits until n more lines than now were written.
func (w *fifoWriter) waitWritten(t *testing.T, n uint64) {
	t.Helper()
	target := w.written.Load() + n
	testutil.WaitFor(t, 30*time.Second, fmt.Sprintf("%d lines written", target), func() bool {
		return w.written.Load() >= target || w.err.Load() != nil
	})
	if err := w.err.Load(); err != nil {
		t.Fatalf("writer: %v", err)
	}
}

// lineTally is what the two daemons delivered.
type lineTally struct {
	seen  map[uint64]int
	sock  map[string]bool // "sock=NAME" lines sent to the syslog socket
	torn  []string
	lines int
}

func tallyLines(paths ...string) lineTally {
	tl := lineTally{seen: map[uint64]int{}, sock: map[string]bool{}}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			tl.lines++
			if name, ok := bytes.CutPrefix(sc.Bytes(), []byte("sock=")); ok {
				tl.sock[string(name)] = true
				continue
			}
			m := cutoverLineRe.FindSubmatch(sc.Bytes())
			if m == nil || len(sc.Bytes()) != cutoverLineLen-1 {
				if len(tl.torn) < 5 {
					tl.torn = append(tl.torn, string(sc.Bytes()))
				}
				continue
			}
			n, _ := strconv.ParseUint(string(m[1]), 10, 64)
			tl.seen[n]++
		}
		f.Close()
	}
	return tl
}

// missing lists (up to 5 of) the lines 1..n not delivered, and counts them.
func (tl lineTally) missing(n uint64) (int, []uint64) {
	var c int
	var first []uint64
	for s := uint64(1); s <= n; s++ {
		if tl.seen[s] == 0 {
			c++
			if len(first) < 5 {
				first = append(first, s)
			}
		}
	}
	return c, first
}

// cutoverEnv is one host: directories, the two daemons' configs and the
// fake systemd.
type cutoverEnv struct {
	dir, fifo, sock, syslogOut, logxOut string
	sd                                  *fakeSystemd
}

func newCutoverEnv(t *testing.T) *cutoverEnv {
	t.Helper()
	needRoot(t, "syslog-ng", "socat")
	bin := binary(t)
	// The collector runs as a user of its own, as under the unit; daemon
	// stands in for otelcol-logx. syslog-ng leaves its FIFO to nobody.
	svc, err := user.Lookup("daemon")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(svc.Uid)
	gid, _ := strconv.Atoi(svc.Gid)
	dir, err := os.MkdirTemp("", "cutover")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &cutoverEnv{dir: dir, fifo: filepath.Join(dir, "run", "apps.fifo"), sock: filepath.Join(dir, "run", "syslog.sock"),
		syslogOut: filepath.Join(dir, "syslog-ng", "out"), logxOut: filepath.Join(dir, "state", "logx.out")}
	for _, d := range []string{"run", "syslog-ng", "state"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(dir, "state"), uid, gid); err != nil {
		t.Fatal(err)
	}
	// The service user must be able to run the binary: LOGX_BIN may sit
	// in a directory only root can enter (OCB makes _build 0750).
	bin = installBinary(t, bin, filepath.Join(dir, "otelcol-logx"))
	// log-fetch-limit(1000): the runbook's preparation of syslog-ng. With
	// the default (10) syslog-ng handles ten lines per wake-up and drops
	// what it had read but not handled when it stops: 3 and 4 lines lost
	// at the hand-over in 2 of 13 runs of this test.
	syslogCfg := filepath.Join(dir, "syslog-ng", "syslog-ng.conf")
	write(t, syslogCfg, fmt.Sprintf(`@version: 3.38
options { stats-freq(0); use-dns(no); dns-cache(no); };
source s_apps { pipe("%s" owner("nobody") group("nogroup") perm(0600) flags(no-parse) log-fetch-limit(1000)); };
source s_sock { unix-stream("%s" flags(no-parse)); };
destination d_out { file("%s" template("${MESSAGE}\n")); };
log { source(s_apps); source(s_sock); destination(d_out); };
`, e.fifo, e.sock, e.syslogOut))
	logxCfg := filepath.Join(dir, "logx.yaml")
	write(t, logxCfg, fmt.Sprintf(`extensions:
  sdnotify:
receivers:
  fifo/apps:
    path: %s
    mode: "0620"
    pipe_size: 1048576
    format: raw
  unixsocket/syslog:
    path: %s
    transport: stream
    mode: "0666"
    framing: newline
    format: raw

exporters:
  logfile:
    path: %s
    format: text
service:
  extensions: [sdnotify]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [fifo/apps, unixsocket/syslog]
      exporters: [logfile]
`, e.fifo, e.sock, e.logxOut))
	e.sd = newFakeSystemd(t, dir, bin, logxCfg, syslogCfg, uid, gid)
	return e
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// script runs the cutover script with the fake systemd's systemctl.
func (e *cutoverEnv) script(t *testing.T, verb string) (string, error) {
	t.Helper()
	cmd := exec.Command("/bin/sh", filepath.Join(cutoverUnitDir, "cutover"), verb)
	cmd.Env = append(os.Environ(),
		"SYSTEMCTL="+e.sd.stub,
		"OTELCOL="+e.sd.logxBin,
		"OTELCOL_CONFIG="+e.sd.logxCfg,
		"LOGX_STATE_DIR="+filepath.Join(e.dir, "state"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startSyslogNG is the host before the cutover: syslog-ng running and
// enabled, its FIFO owned by another user with its own mode.
func (e *cutoverEnv) startSyslogNG(t *testing.T) {
	t.Helper()
	for _, call := range [][]string{{"start", "syslog-ng.service"}, {"enable", "syslog-ng.service"}} {
		if code, out := e.sd.systemctl(call); code != 0 {
			t.Fatalf("systemctl %v: %s", call, out)
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(e.fifo, &st); err != nil {
		t.Fatal(err)
	}
	nobody, _ := user.Lookup("nobody")
	if strconv.Itoa(int(st.Uid)) != nobody.Uid || st.Mode&0o777 != 0o600 {
		t.Fatalf("syslog-ng's FIFO: uid %d mode %04o, want nobody's with 0600", st.Uid, st.Mode&0o777)
	}
}

// checkAllDelivered waits until every written line is in one of the two
// outputs, then checks none is torn or twice there.
func (e *cutoverEnv) checkAllDelivered(t *testing.T, w *fifoWriter) {
	t.Helper()
	n := w.written.Load()
	var tl lineTally
	testutil.WaitFor(t, 60*time.Second, "every line in syslog-ng's output or the collector's", func() bool {
		tl = tallyLines(e.syslogOut, e.logxOut)
		c, _ := tl.missing(n)
		return c == 0
	}, func() string { return e.describeGap(tl, n) })
	e.checkLines(t, w, tl)
	t.Logf("%d lines written at %d/s, all delivered; longest write %s", n, cutoverRate, time.Duration(w.maxBlock.Load()))
}

// checkDeliveredAcrossSyslogNGRestart is checkAllDelivered for a run that
// restarted syslog-ng: a stopped syslog-ng drops what it had read from the
// pipe but not handled, which no order of steps avoids. Such lines are
// allowed, only where syslog-ng read the lines on both sides of the gap
// (so it was syslog-ng's, not the collector's) and at most one read
// buffer's worth (64 KiB); every other line must be there.
func (e *cutoverEnv) checkDeliveredAcrossSyslogNGRestart(t *testing.T, w *fifoWriter) {
	t.Helper()
	n := w.written.Load()
	var tl lineTally
	// syslog-ng writes in the order it read: once the last line is out,
	// everything it will deliver is.
	testutil.WaitFor(t, 60*time.Second, "the last line delivered", func() bool {
		tl = tallyLines(e.syslogOut, e.logxOut)
		return tl.seen[n] > 0
	}, func() string { return e.describeGap(tl, n) })
	lost, outside := restartGaps(tl.seen, tallyLines(e.syslogOut).seen, n)
	if outside != nil {
		t.Fatalf("lines %d..%d lost outside syslog-ng's restart: %s", outside[0], outside[1], e.describeGap(tl, n))
	}
	if max := (64 << 10) / cutoverLineLen; lost > max {
		t.Fatalf("%d lines lost in syslog-ng's restart, more than one 64 KiB read (%d lines)", lost, max)
	}
	e.checkLines(t, w, tl)
	t.Logf("%d lines written at %d/s; %d lost inside syslog-ng's restart, all others delivered; longest write %s",
		n, cutoverRate, lost, time.Duration(w.maxBlock.Load()))
}

// restartGaps counts the lines 1..n missing from seen, and returns the
// first gap (its first and last line) that is not syslog-ng's: a gap is
// syslog-ng's when syslog-ng delivered the lines on both sides of it, as it
// does when it drops what it had read but not written at a restart.
func restartGaps(seen, sng map[uint64]int, n uint64) (lost int, outside *[2]uint64) {
	for s := uint64(1); s <= n; s++ {
		if seen[s] > 0 {
			continue
		}
		next := s + 1
		for next <= n && seen[next] == 0 {
			next++
		}
		if sng[s-1] == 0 || sng[next] == 0 {
			return lost, &[2]uint64{s, next - 1}
		}
		lost += int(next - s)
		s = next
	}
	return lost, nil
}

// describeGap says how many lines are missing and who read the lines
// around the first gap, which tells who lost it.
func (e *cutoverEnv) describeGap(tl lineTally, n uint64) string {
	c, first := tl.missing(n)
	sng, logx := tallyLines(e.syslogOut).seen, tallyLines(e.logxOut).seen
	where := ""
	if len(first) > 0 {
		prev, next := first[0]-1, first[len(first)-1]+1
		where = fmt.Sprintf("; line %d went to syslog-ng %t / collector %t, line %d to syslog-ng %t / collector %t",
			prev, sng[prev] > 0, logx[prev] > 0, next, sng[next] > 0, logx[next] > 0)
	}
	return fmt.Sprintf("%d of %d lines missing, first %v; torn lines: %q; lines from syslog-ng %d, from the collector %d%s",
		c, n, first, tl.torn, len(sng), len(logx), where)
}

// checkLines: no line cut in two, none delivered twice, no write blocked
// over the limit.
func (e *cutoverEnv) checkLines(t *testing.T, w *fifoWriter, tl lineTally) {
	t.Helper()
	if len(tl.torn) > 0 {
		t.Errorf("lines cut in two between the daemons: %q", tl.torn)
	}
	dups := 0
	for _, c := range tl.seen {
		dups += c - 1
	}
	if dups > 0 {
		t.Errorf("%d lines delivered twice: a pipe's bytes go to one reader", dups)
	}
	if max := time.Duration(w.maxBlock.Load()); max > cutoverMaxBlock {
		t.Errorf("a write blocked for %s (limit %s)", max, cutoverMaxBlock)
	}
}

// eventIndex is where an event is in the fake systemd's log, -1 if absent.
func eventIndex(events []string, ev string) int {
	for i, e := range events {
		if e == ev {
			return i
		}
	}
	return -1
}

// requireOrder fails unless each event happened, in this order (each
// found after the one before it).
func requireOrder(t *testing.T, events []string, order ...string) {
	t.Helper()
	from := 0
	for _, ev := range order {
		i := eventIndex(events[from:], ev)
		if i < 0 {
			t.Fatalf("want %q in this order: %q; events: %q", ev, order, events)
		}
		from += i + 1
	}
}

// sendToSocket writes the line "sock=NAME" to the syslog socket, as a
// syslog(3) writer would after (re)connecting.
func (e *cutoverEnv) sendToSocket(t *testing.T, name string) {
	t.Helper()
	c, err := net.Dial("unix", e.sock)
	if err != nil {
		t.Fatalf("connecting to %s: %v", e.sock, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("sock=" + name + "\n")); err != nil {
		t.Fatal(err)
	}
}

// waitSocketLine waits until the line "sock=NAME" is in the output at path.
func waitSocketLine(t *testing.T, who, path, name string) {
	t.Helper()
	testutil.WaitFor(t, 30*time.Second, fmt.Sprintf("sock=%s in %s's output", name, who), func() bool { return tallyLines(path).sock[name] })
}

func seqsIn(path string) int {
	return len(tallyLines(path).seen)
}

// TestCutoverAndRollback: syslog-ng reads the FIFO; the script starts the
// collector on the same FIFO (the socket unit adopts syslog-ng's FIFO),
// waits for READY=1, stops syslog-ng, flips enable/disable; then rolls
// back. The writer never blocks over 100 ms, and every line is in
// syslog-ng's output or the collector's, exactly once.
func TestCutoverAndRollback(t *testing.T) {
	e := newCutoverEnv(t)
	e.startSyslogNG(t)
	w := startFIFOWriter(t, e.fifo, cutoverRate, 3*time.Minute)
	testutil.WaitFor(t, 30*time.Second, "syslog-ng delivering", func() bool { return seqsIn(e.syslogOut) >= 2000 })

	out, err := e.script(t, "cutover")
	if err != nil {
		t.Fatalf("cutover: %v\n%s", err, out)
	}
	requireOrder(t, e.sd.Events(),
		"start otelcol-logx-fifo.socket", "start otelcol-logx.service", "ready otelcol-logx.service",
		"stop syslog-ng.service", "enable otelcol-logx.service", "disable syslog-ng.service")
	if en := e.sd.Enabled(); !en["otelcol-logx.service"] || !en["otelcol-logx-fifo.socket"] || en["syslog-ng.service"] {
		t.Fatalf("after the cutover a reboot must start otelcol-logx only; enabled: %v", en)
	}
	if e.sd.Active("syslog-ng.service") || !e.sd.Active("otelcol-logx.service") {
		t.Fatal("after the cutover otelcol-logx must run and syslog-ng not")
	}
	w.waitWritten(t, cutoverRate) // a second of lines for the collector alone
	testutil.WaitFor(t, 30*time.Second, "the collector delivering", func() bool { return seqsIn(e.logxOut) > 0 })
	// The syslog socket's path is otelcol-logx's now.
	e.sendToSocket(t, "after-cutover")
	waitSocketLine(t, "the collector", e.logxOut, "after-cutover")

	out, err = e.script(t, "rollback")
	if err != nil {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	requireOrder(t, e.sd.Events(), "disable syslog-ng.service",
		"start syslog-ng.service", "ready syslog-ng.service", "stop otelcol-logx.service",
		"stop otelcol-logx-fifo.socket", "enable syslog-ng.service", "disable otelcol-logx.service")
	if en := e.sd.Enabled(); en["otelcol-logx.service"] || en["otelcol-logx-fifo.socket"] || !en["syslog-ng.service"] {
		t.Fatalf("after the rollback a reboot must start syslog-ng only; enabled: %v", en)
	}
	w.waitWritten(t, cutoverRate)
	// syslog-ng bound the socket's path again when it started.
	e.sendToSocket(t, "after-rollback")
	waitSocketLine(t, "syslog-ng", e.syslogOut, "after-rollback")
	w.finish()
	if err := w.err.Load(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	e.checkAllDelivered(t, w)
}

// TestCutoverNotReadyKeepsSyslogNG: a collector that validates but cannot
// start (a receiver's path it may not create) never sends READY=1; the
// script keeps syslog-ng enabled and running (restarted, so that it binds
// the syslog socket again), leaves otelcol-logx stopped and disabled, and
// fails. No line is lost but what syslog-ng itself drops when restarted.
func TestCutoverNotReadyKeepsSyslogNG(t *testing.T) {
	e := newCutoverEnv(t)
	// A receiver the service user cannot create: the collector exits.
	denied := filepath.Join(e.dir, "denied")
	if err := os.Mkdir(denied, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(e.sd.logxCfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte("\nexporters:"), fmt.Appendf(nil, "  unixsocket/denied:\n    path: %s/x.sock\n\nexporters:", denied), 1)
	cfg = bytes.Replace(cfg, []byte("receivers: [fifo/apps, unixsocket/syslog]"), []byte("receivers: [fifo/apps, unixsocket/syslog, unixsocket/denied]"), 1)
	write(t, e.sd.logxCfg, string(cfg))

	e.startSyslogNG(t)
	w := startFIFOWriter(t, e.fifo, cutoverRate, 3*time.Minute)
	testutil.WaitFor(t, 30*time.Second, "syslog-ng delivering", func() bool { return seqsIn(e.syslogOut) >= 2000 })

	out, err := e.script(t, "cutover")
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the cutover must fail when otelcol-logx is not ready; got %v\n%s", err, out)
	}
	ev := e.sd.Events()
	if eventIndex(ev, "ready otelcol-logx.service") >= 0 || eventIndex(ev, "disable syslog-ng.service") >= 0 || eventIndex(ev, "enable otelcol-logx.service") >= 0 {
		t.Fatalf("nothing may switch when the collector is not ready; events: %q", ev)
	}
	// The socket unit took syslog-ng's socket path: syslog-ng is restarted
	// (to bind it again) while the FIFO socket still holds the pipe, and
	// only then are otelcol-logx's sockets stopped.
	requireOrder(t, ev, "failed otelcol-logx.service", "stop syslog-ng.service", "start syslog-ng.service",
		"ready syslog-ng.service", "stop otelcol-logx-fifo.socket")
	e.sendToSocket(t, "after-failed-cutover")
	waitSocketLine(t, "syslog-ng", e.syslogOut, "after-failed-cutover")
	if en := e.sd.Enabled(); !en["syslog-ng.service"] || en["otelcol-logx.service"] {
		t.Fatalf("syslog-ng must stay the enabled one; enabled: %v", en)
	}
	if !e.sd.Active("syslog-ng.service") || e.sd.Active("otelcol-logx.service") {
		t.Fatal("syslog-ng must run and otelcol-logx not")
	}
	w.waitWritten(t, cutoverRate/2)
	w.finish()
	if err := w.err.Load(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	e.checkDeliveredAcrossSyslogNGRestart(t, w)
}

// installBinary copies the collector to dst, executable by every user.
func installBinary(t *testing.T, src, dst string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestRestartGaps: a gap of several lines between two of syslog-ng's is
// syslog-ng's (a restart drops one read's worth, not one line); a gap next
// to a line the collector delivered is not.
func TestRestartGaps(t *testing.T) {
	lines := func(from, to uint64) map[uint64]int {
		m := map[uint64]int{}
		for s := from; s <= to; s++ {
			m[s] = 1
		}
		return m
	}
	join := func(ms ...map[uint64]int) map[uint64]int {
		all := map[uint64]int{}
		for _, m := range ms {
			for s, c := range m {
				all[s] += c
			}
		}
		return all
	}
	for _, tc := range []struct {
		name      string
		sng, logx map[uint64]int
		lost      int
		outside   *[2]uint64
	}{
		{"none missing", lines(1, 100), nil, 0, nil},
		{"one line in syslog-ng's restart", join(lines(1, 40), lines(42, 100)), nil, 1, nil},
		{"twelve lines in syslog-ng's restart", join(lines(1, 40), lines(53, 100)), nil, 12, nil},
		{"two gaps in syslog-ng's restarts", join(lines(1, 40), lines(45, 60), lines(63, 100)), nil, 6, nil},
		{"a gap after the collector's line", join(lines(1, 39), lines(45, 100)), lines(40, 40), 0, &[2]uint64{41, 44}},
		{"a gap before the collector's line", lines(1, 40), lines(45, 100), 0, &[2]uint64{41, 44}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lost, outside := restartGaps(join(tc.sng, tc.logx), tc.sng, 100)
			if lost != tc.lost || (outside == nil) != (tc.outside == nil) || (outside != nil && *outside != *tc.outside) {
				t.Fatalf("restartGaps = %d, %v; want %d, %v", lost, outside, tc.lost, tc.outside)
			}
		})
	}
}
