//go:build resilience

package resilience

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The flags the shipped systemd unit runs the collector with: partial
// reload so that a refused (or unchanged) config leaves the pipelines
// running, and a start on the last good config when the file is broken.
var reloadGates = "--feature-gates=service.partialReload,logx.startWithLastGoodConfig"

// reloadRig is one collector whose config file the test rewrites.
type reloadRig struct {
	t                 *testing.T
	dir, cfg, state   string
	fifo              string
	health, metricURL string
	metricsPort       int
}

func newReloadRig(t *testing.T) *reloadRig {
	dir := t.TempDir()
	r := &reloadRig{t: t, dir: dir, cfg: filepath.Join(dir, "config.yaml"), state: filepath.Join(dir, "state"),
		fifo: filepath.Join(dir, "in.fifo"), metricsPort: testutil.FreeTCPPort(t)}
	r.health = fmt.Sprintf("127.0.0.1:%d", testutil.FreeTCPPort(t))
	r.metricURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", r.metricsPort)
	if err := os.MkdirAll(r.state, 0o750); err != nil {
		t.Fatal(err)
	}
	return r
}

// config is a valid config delivering the FIFO into out (a file in dir),
// with its metrics readers written as the shipped configs write them.
func (r *reloadRig) config(out string) string {
	return fmt.Sprintf(`
extensions:
  health_check: {endpoint: %q}
receivers:
  fifo: {path: %q}
exporters:
  logfile:
    path: %q
    format: text
    flush: {interval: 0s}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: normal
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}
  pipelines:
    logs: {receivers: [fifo], exporters: [logfile]}
`, r.health, r.fifo, filepath.Join(r.dir, out), r.metricsPort)
}

func (r *reloadRig) write(content string) {
	r.t.Helper()
	if err := os.WriteFile(r.cfg, []byte(content), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// start runs LOGX_BIN on the rig's config file with the given flags.
func (r *reloadRig) start(name string, flags ...string) *collector {
	t := r.t
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"--config=" + r.cfg}, flags...)...)
	cmd.Env = append(os.Environ(), "LOGX_STATE_DIR="+r.state)
	return runCollector(t, r.dir, name, cmd)
}

func (r *reloadRig) healthy() bool {
	resp, err := http.Get("http://" + r.health + "/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

var (
	guardMetricRe   = regexp.MustCompile(`^otelcol_logx_config_`)
	reloadFailureRe = regexp.MustCompile(`^otelcol_logx_config_reload_failures(_total)?$`)
)

// guardMetrics reads the two guard figures (a missing one reads -1).
func (r *reloadRig) guardMetrics() (failures, success float64) {
	m, err := metrics(r.metricURL, guardMetricRe)
	if err != nil {
		return -1, -1
	}
	failures, success = -1, -1
	for name, v := range m {
		switch {
		case reloadFailureRe.MatchString(name):
			failures = v
		case name == "otelcol_logx_config_last_reload_success":
			success = v
		}
	}
	return failures, success
}

func (r *reloadRig) waitMetrics(c *collector, what string, failures, success float64) {
	r.t.Helper()
	testutil.WaitFor(r.t, 20*time.Second, what, func() bool {
		if !c.running() {
			r.t.Fatalf("the collector exited while waiting for %s: %v", what, c.err)
		}
		f, s := r.guardMetrics()
		return f == failures && s == success
	}, func() string { f, s := r.guardMetrics(); return fmt.Sprintf("failures=%v success=%v", f, s) })
}

// feed writes n numbered lines into the FIFO and returns their ids.
func (r *reloadRig) feed(next *uint64, phase, n int) []uint64 {
	r.t.Helper()
	f, err := os.OpenFile(r.fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		r.t.Fatalf("opening %s for writing (is the receiver reading it?): %v", r.fifo, err)
	}
	defer f.Close()
	var ids []uint64
	var buf bytes.Buffer
	for range n {
		*next++
		ids = append(ids, *next)
		buf.Write(syslogLine(*next, phase))
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		r.t.Fatalf("writing to %s: %v", r.fifo, err)
	}
	return ids
}

// delivered waits until every id is in the file out.
func (r *reloadRig) delivered(out string, ids []uint64) {
	r.t.Helper()
	path := filepath.Join(r.dir, out)
	var missing int
	testutil.WaitFor(r.t, 20*time.Second, fmt.Sprintf("%d lines in %s", len(ids), out), func() bool {
		got := idSet{}
		b, _ := os.ReadFile(path)
		for _, line := range bytes.Split(b, []byte("\n")) {
			if id, ok := lineID(line); ok {
				got[id]++
			}
		}
		missing, _ = got.missing(ids)
		return missing == 0
	}, func() string { return fmt.Sprintf("%d missing", missing) })
}

func (r *reloadRig) lastGood() string {
	b, _ := os.ReadFile(filepath.Join(r.state, "last-good-config.yaml"))
	return string(b)
}

// reloadBadConfigs are written over a running collector's config.
var reloadBadConfigs = []struct{ name, content string }{
	{"yaml garbage", "receivers: [unclosed\n\t: : : {{{\n"},
	{"no pipelines", "receivers: {fifo: {path: /tmp/x.fifo}}\nexporters: {logfile: {path: /tmp/x.log}}\nservice: {pipelines: {}}\n"},
	{"exporter fails validation", "receivers: {fifo: {path: /tmp/x.fifo}}\nexporters: {logfile: {path: /tmp/x.log, format: xml}}\nservice: {pipelines: {logs: {receivers: [fifo], exporters: [logfile]}}}\n"},
}

// TestReloadRefusesBadConfigs: three broken configs, each followed by
// SIGHUP, leave the collector running its config, healthy and delivering
// every line written before and after; then a valid change is applied.
func TestReloadRefusesBadConfigs(t *testing.T) {
	r := newReloadRig(t)
	r.write(r.config("a.log"))
	c := r.start("collector", reloadGates)
	testutil.WaitFor(t, 30*time.Second, "health", r.healthy)
	testutil.WaitFor(t, 20*time.Second, "the last good config", func() bool { return bytes.Contains([]byte(r.lastGood()), []byte("a.log")) })
	r.waitMetrics(c, "the guard metrics at start", 0, 1)

	var next uint64
	var sent []uint64
	for i, bad := range reloadBadConfigs {
		sent = append(sent, r.feed(&next, 2*i, 200)...)
		r.write(bad.content)
		if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		r.waitMetrics(c, "the refusal of "+bad.name, float64(i+1), 0)
		if !r.healthy() {
			t.Fatalf("health check not OK after refusing %s", bad.name)
		}
		sent = append(sent, r.feed(&next, 2*i+1, 200)...)
		r.delivered("a.log", sent)
	}
	if !bytes.Contains([]byte(r.lastGood()), []byte("a.log")) {
		t.Fatal("a refused config replaced the last good one")
	}
	b, _ := os.ReadFile(c.log)
	if n := bytes.Count(b, []byte("Configuration reload refused")); n != len(reloadBadConfigs) {
		t.Fatalf("%d refusals logged, want %d", n, len(reloadBadConfigs))
	}

	// A valid change: the exporter writes to another file.
	r.write(r.config("b.log"))
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, "the new config to start", func() bool { return bytes.Contains([]byte(r.lastGood()), []byte("b.log")) })
	r.waitMetrics(c, "the accepted reload", float64(len(reloadBadConfigs)), 1)
	testutil.WaitFor(t, 20*time.Second, "health after the valid reload", r.healthy)
	after := r.feed(&next, 100, 200)
	r.delivered("b.log", after)
	r.delivered("a.log", sent) // nothing lost from before
	c.stop()
	if c.err != nil {
		t.Fatalf("collector exited with %v after SIGTERM", c.err)
	}
}

// TestStartOnLastGoodConfig: a start on a broken config runs the last good
// config (left by a previous good run) with the gate on, and fails as the
// upstream collector does with it off.
func TestStartOnLastGoodConfig(t *testing.T) {
	r := newReloadRig(t)
	r.write(r.config("good.log"))
	c := r.start("good-run", reloadGates)
	testutil.WaitFor(t, 30*time.Second, "the last good config", func() bool { return bytes.Contains([]byte(r.lastGood()), []byte("good.log")) })
	c.stop()

	r.write(reloadBadConfigs[0].content)
	c = r.start("gate-on", reloadGates)
	testutil.WaitFor(t, 30*time.Second, "health on the last good config", r.healthy)
	r.waitMetrics(c, "the start on the last good config", 1, 0)
	b, _ := os.ReadFile(c.log)
	if !bytes.Contains(b, []byte("THE CONFIGURATION IS INVALID: starting on the last good configuration")) {
		t.Fatal("no warning about starting on the last good configuration")
	}
	var next uint64
	r.delivered("good.log", r.feed(&next, 1, 100))
	c.stop()

	c = r.start("gate-off", "--feature-gates=service.partialReload")
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("with the gate off the collector started on a broken config")
	}
	if c.err == nil {
		t.Fatal("with the gate off a broken config must fail the start (exit status != 0)")
	}
	b, _ = os.ReadFile(c.log)
	if !bytes.Contains(b, []byte("not a YAML map")) {
		t.Fatalf("the start failure does not say what is wrong:\n%s", tail(b, 2000))
	}
}
