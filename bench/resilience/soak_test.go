//go:build resilience && soak

package resilience

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// goroutines reads the goroutine count from the pprof extension.
func goroutines(t *testing.T, endpoint string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+endpoint+"/debug/pprof/goroutine?debug=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("pprof: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	if sc.Scan() {
		// "goroutine profile: total N"
		if _, n, ok := strings.Cut(sc.Text(), "total "); ok {
			v, err := strconv.Atoi(strings.TrimSpace(n))
			if err == nil {
				return v
			}
		}
	}
	t.Fatalf("pprof: no goroutine total in the answer")
	return 0
}

// TestSoak runs the per-host job (unix socket -> ratelimit -> cfjs1 to an
// acknowledging sink) at a fixed rate for 10 minutes: after a 2-minute
// warm-up, RSS and goroutine count must not grow by more than 10%. It is
// built only with the soak tag, which `make resilience-test` sets: the
// reduced scale of `make test` has no room for 10 minutes.
func TestSoak(t *testing.T) {
	binary(t)
	sink := newAckSink(t, "127.0.0.1:0")
	sock := filepath.Join(t.TempDir(), "edge.sock")
	pprof := fmt.Sprintf("127.0.0.1:%d", testutil.FreeTCPPort(t))
	edge := startCollector(t, "edge", "", fmt.Sprintf(`
extensions:
  pprof:
    endpoint: %s
receivers:
  unixsocket:
    path: %s
    framing: newline
    format: rfc3164
    peer:
      credentials: false
      systemd_unit: false
processors:
  ratelimit:
    rate: 100000
    burst: 100000
exporters:
  cfjs1:
    endpoints:
      - name: log-a
        endpoint: %s
service:
  extensions: [pprof]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [unixsocket]
      processors: [ratelimit]
      exporters: [cfjs1]
`, pprof, sock, sink.addr()))
	testutil.WaitFor(t, 30*time.Second, "the edge socket", func() bool { _, err := os.Stat(sock); return err == nil })

	const (
		total  = 10 * time.Minute
		warmup = 2 * time.Minute
		sample = 30 * time.Second
		rate   = 2000
	)
	var next uint64
	type point struct{ rssKB, gor int }
	var warm, last point
	start := time.Now()
	for time.Since(start) < total {
		feedUnix(t, sock, &next, 0, rate, sample)
		if !edge.running() {
			t.Fatalf("the collector exited: %v", edge.err)
		}
		rss, err := procStatus(edge.pid(), "VmRSS")
		if err != nil {
			t.Fatal(err)
		}
		p := point{int(rss), goroutines(t, pprof)}
		t.Logf("%4.0fs: %d lines fed, %d delivered, RSS %d kB, %d goroutines", time.Since(start).Seconds(), next, sink.lines.Load(), p.rssKB, p.gor)
		if warm == (point{}) && time.Since(start) >= warmup {
			warm = p
		}
		last = p
	}
	if float64(last.rssKB) > 1.1*float64(warm.rssKB) {
		t.Errorf("RSS grew from %d kB after warm-up to %d kB (> 10%%)", warm.rssKB, last.rssKB)
	}
	if float64(last.gor) > 1.1*float64(warm.gor) {
		t.Errorf("goroutines grew from %d after warm-up to %d (> 10%%)", warm.gor, last.gor)
	}
	if d := sink.lines.Load(); d < int64(next) {
		testutil.WaitFor(t, 30*time.Second, "the last lines at the sink", func() bool { return sink.lines.Load() >= int64(next) })
	}
}
