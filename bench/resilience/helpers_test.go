//go:build resilience

package resilience

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// full reports whether the tests run at full scale (make resilience-test).
func full() bool { return os.Getenv("LOGX_RESILIENCE") == "full" }

// scale picks the short or the full value.
func scale[T any](short, fullValue T) T {
	if full() {
		return fullValue
	}
	return short
}

// binary returns the collector under test; without it the test fails (it
// must not pass by doing nothing).
func binary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("LOGX_BIN")
	if bin == "" {
		t.Fatal("LOGX_BIN is not set: run these tests with `make resilience-test-short` or `make resilience-test`, which build the collector and set it")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("LOGX_BIN=%s: %v (make build)", bin, err)
	}
	return bin
}

// needRoot fails the test (with what is missing) unless it runs as root
// with the given tools.
func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (network namespaces, nftables, tmpfs mounts)")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("this test needs %s in PATH (bash scripts/deps.sh installs it): %v", tool, err)
		}
	}
}

// run runs a command and fails the test with its output if it fails.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// collector is a collector process under test.
type collector struct {
	t    *testing.T
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// startCollector runs LOGX_BIN on the config (written to a file), inside
// the network namespace ns unless ns is empty. It is killed at cleanup.
func startCollector(t *testing.T, name, ns, config string, env ...string) *collector {
	t.Helper()
	return startCollectorSet(t, name, ns, config, nil, env...)
}

// startCollectorSet is startCollector with settings given on the command
// line (--set key=value, keys joined by ::), as an operator overrides one
// setting of a shipped config without editing it.
func startCollectorSet(t *testing.T, name, ns, config string, sets []string, env ...string) *collector {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{binary(t), "--config", cfg}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	return runCollector(t, dir, name, cmd)
}

// runCollector starts cmd (a collector, its output to dir/name.log) and
// kills it at cleanup, showing the end of its log if the test failed.
func runCollector(t *testing.T, dir, name string, cmd *exec.Cmd) *collector {
	t.Helper()
	c := &collector{t: t, cmd: cmd, log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	logf, err := os.Create(c.log)
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		logf.Close()
		close(c.done)
	}()
	t.Cleanup(func() {
		if c.running() {
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(c.log)
			if keep := os.Getenv("LOGX_RESILIENCE_LOGS"); keep != "" {
				_ = os.WriteFile(filepath.Join(keep, t.Name()+"-"+name+".log"), b, 0o644)
			}
			t.Logf("log of %s (last 4000 bytes):\n%s", name, tail(b, 4000))
		}
	})
	return c
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (c *collector) running() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// pid is the collector's own pid (under `ip netns exec`, which execs, the same).
func (c *collector) pid() int { return c.cmd.Process.Pid }

// stop ends the collector with SIGTERM (graceful: queues and files flushed).
func (c *collector) stop() {
	c.t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		c.t.Fatalf("collector did not stop within 30s of SIGTERM")
	}
}

// kill9 ends the collector with SIGKILL.
func (c *collector) kill9() {
	_ = c.cmd.Process.Kill()
	<-c.done
}

// idRe finds the request id every test line carries.
var idRe = regexp.MustCompile(`req=([0-9a-f]{16})`)

func lineID(line []byte) (uint64, bool) {
	m := idRe.FindSubmatch(line)
	if m == nil {
		return 0, false
	}
	id, err := strconv.ParseUint(string(m[1]), 16, 64)
	return id, err == nil
}

// syslogLine is a local /dev/log line with the id and the test phase.
func syslogLine(id uint64, phase int) []byte {
	return fmt.Appendf(nil, "<30>Nov 22 04:00:00 svc%02d[%d]: req=%016x phase=%d GET /api/v1/items status=200 dur_ms=12 bytes=5123 outcome=\"ok\" user=u000042\n",
		id%50, 1000+id%50, id, phase)
}

// cfjs1Line is the same record as a cfjs1 line (for a cfjs1 receiver).
func cfjs1Line(id uint64, phase int) []byte {
	return fmt.Appendf(nil, `{"format":"syslog","syslog":{"message":"req=%016x phase=%d GET /api/v1/items status=200","attributes":{"logx.service":"svc%02d"}}}`+"\n",
		id, phase, id%50)
}

// sideCount tells, for one side, which ids reached it directly or as
// dead-letter copies on the other side.
type idSet map[uint64]int

func (s idSet) addAll(o idSet) {
	for id, n := range o {
		s[id] += n
	}
}

// missing counts the ids in want that s lacks.
func (s idSet) missing(want []uint64) (n int, first []uint64) {
	for _, id := range want {
		if s[id] == 0 {
			n++
			if len(first) < 5 {
				first = append(first, id)
			}
		}
	}
	return n, first
}

// duplicates counts deliveries beyond the first.
func (s idSet) duplicates() int {
	d := 0
	for _, n := range s {
		d += n - 1
	}
	return d
}

// ackSink is an in-process tier-2 stand-in that speaks the cfjs1
// acknowledgement protocol (docs/cfjs1.md) and records the ids it gets,
// direct and dead-letter apart. blackhole stops it reading (half-alive).
type ackSink struct {
	l         net.Listener
	mu        sync.Mutex
	direct    idSet
	dead      idSet
	blackhole atomic.Bool
	lines     atomic.Int64
}

func newAckSink(t *testing.T, addr string) *ackSink {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &ackSink{l: l, direct: idSet{}, dead: idSet{}}
	serveEach(t, l, nil, s.serve)
	t.Cleanup(func() { s.blackhole.Store(false) }) // before the connections close
	return s
}

func (s *ackSink) addr() string { return s.l.Addr().String() }

func (s *ackSink) serve(conn net.Conn) {
	c := newTier2Conn(conn)
	for {
		// What was read is acknowledged before a blackhole stops the
		// reading (next would acknowledge it only after).
		if c.ackIfCaughtUp() != nil {
			return
		}
		for s.blackhole.Load() {
			time.Sleep(10 * time.Millisecond) // not reading is the fault
		}
		line, err := c.next()
		if err != nil {
			return
		}
		s.record(line)
	}
}

func (s *ackSink) record(line []byte) {
	s.lines.Add(1)
	id, ok := lineID(line)
	if !ok {
		return
	}
	s.mu.Lock()
	if bytes.Contains(line, []byte(`"dead_letter_for"`)) {
		s.dead[id]++
	} else {
		s.direct[id]++
	}
	s.mu.Unlock()
}

// snapshot copies what the sink has recorded.
func (s *ackSink) snapshot() (direct, dead idSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	direct, dead = idSet{}, idSet{}
	direct.addAll(s.direct)
	dead.addAll(s.dead)
	return direct, dead
}

// feedUnix writes lines to a unix stream socket at rate lines/s for d,
// numbering ids from *next; it returns the ids written. Bounded by d.
func feedUnix(t *testing.T, path string, next *uint64, phase, rate int, d time.Duration) []uint64 {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	defer c.Close()
	var ids []uint64
	perTick := max(1, rate/100) // 10 ms slices
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(d)
	buf := make([]byte, 0, 256*perTick)
	for time.Now().Before(end) {
		<-tick.C
		buf = buf[:0]
		for range perTick {
			*next++
			ids = append(ids, *next)
			buf = append(buf, syslogLine(*next, phase)...)
		}
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(buf); err != nil {
			t.Fatalf("writing to %s: %v (the collector blocked or closed its socket)", path, err)
		}
	}
	return ids
}

// metrics scrapes the collector's Prometheus endpoint and returns every
// sample whose name matches re, summed by name.
func metrics(url string, re *regexp.Regexp) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		if !re.MatchString(name) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			out[name] += v
		}
	}
	return out, nil
}

// procStatus reads a field (in kB) of /proc/<pid>/status.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
