//go:build resilience

package resilience

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// orderingCostConfig is edge.yaml's cfjs1 exporter alone behind the unix
// socket receiver: mode all to log-a and log-b with acknowledgements, the
// default batches (1,000 to 5,000 records), an in-memory queue large
// enough for the whole backlog, and %[4]d consumers. %[1]s is the state
// directory, %[2]s and %[3]s the sides, %[5]d the metrics port.
const orderingCostConfig = `
receivers:
  unixsocket/syslog:
    path: %[1]s/syslog.sock
    framing: newline
    format: rfc3164
    peer:
      credentials: false
      systemd_unit: false
exporters:
  cfjs1:
    mode: all
    endpoints:
      - name: log-a
        endpoint: %[2]s
      - name: log-b
        endpoint: %[3]s
    failback:
      initial_backoff: 100ms
      max_backoff: 200ms
      healthy_for: 500ms
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 100ms
    sending_queue:
      queue_size: 1000000
      num_consumers: %[4]d
service:
  telemetry:
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[5]d
  pipelines:
    logs:
      receivers: [unixsocket/syslog]
      exporters: [cfjs1]
`

// countingSink is a cfjs1 tier-2 stand-in that only counts the data lines
// it gets and acknowledges them as soon as it has read all there is, so
// that it costs the test process as little as possible per line: what is
// measured is the exporter. It listens from the start; accepting is
// switched on by open (until then connections are closed at once, a side
// that is down).
type countingSink struct {
	l     net.Listener
	open  atomic.Bool
	lines atomic.Int64
	// first and last are when the first and the latest data line came
	// (UnixNano).
	first, last atomic.Int64
}

func newCountingSink(t *testing.T) *countingSink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &countingSink{l: l}
	serveEach(t, l, s.open.Load, s.serve)
	return s
}

func (s *countingSink) serve(conn net.Conn) {
	c := newTier2Conn(conn)
	for {
		if _, err := c.next(); err != nil {
			return
		}
		now := time.Now().UnixNano()
		s.first.CompareAndSwap(0, now)
		s.last.Store(now)
		s.lines.Add(1)
	}
}

// TestOrderingCost measures what order costs in throughput: the edge's
// cfjs1 exporter (mode all, both sides acknowledging on loopback) drains
// the same backlog of lines with one consumer (as edge.yaml ships it, so
// that each service's lines stay in order) and with four (the exporter's
// default, which reorders a retried batch behind later ones). The
// backlog is queued while both sides are down; the drain rate is what
// both sides took, from the first line to the last, per second. One
// consumer must still carry 10,000 lines/s, the rate the isolation test
// runs an edge at.
func TestOrderingCost(t *testing.T) {
	binary(t)
	backlog := scale(200_000, 1_000_000)
	rates := map[int]float64{}
	for _, consumers := range []int{1, 4} {
		rates[consumers] = drainRate(t, consumers, backlog)
	}
	t.Logf("drain of %d lines to both sides: %.0f lines/s with one consumer, %.0f with four (one consumer: %.0f%% of four's)",
		backlog, rates[1], rates[4], 100*rates[1]/rates[4])
	if rates[1] < 10_000 {
		t.Errorf("one consumer drains %.0f lines/s, less than the 10,000 lines/s an edge is run at", rates[1])
	}
}

var costMetrics = regexp.MustCompile(`^otelcol_(exporter_queue_size|logx_unixsocket_dropped_records)`)

// drainRate queues backlog lines in a collector whose sides are down, then
// opens both sides and returns the lines a second they took.
func drainRate(t *testing.T, consumers, backlog int) float64 {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "syslog.sock")
	a, b := newCountingSink(t), newCountingSink(t)
	port := testutil.FreeTCPPort(t)
	col := startCollector(t, fmt.Sprintf("edge-%d", consumers), "", fmt.Sprintf(orderingCostConfig, dir, a.l.Addr(), b.l.Addr(), consumers, port))
	defer col.stop()
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	testutil.WaitFor(t, 30*time.Second, "the socket", func() bool { _, err := os.Stat(sock); return err == nil })

	// The backlog, at 20,000 lines/s: what the receiver takes without
	// dropping while the exporter retries.
	var next uint64
	fed := feedUnix(t, sock, &next, 1, 20_000, time.Duration(backlog/20_000)*time.Second)
	var m map[string]float64
	testutil.WaitFor(t, 60*time.Second, "the backlog in the exporter's queue", func() bool {
		var err error
		if m, err = series(url, costMetrics); err != nil {
			return false
		}
		// Each consumer holds a batch of up to 5,000 lines out of the
		// queue, retrying it.
		return sumSeries(m, "otelcol_exporter_queue_size") >= float64(len(fed)-5000*consumers)
	}, func() string { return fmt.Sprintf("%d fed; %s", len(fed), describe(m)) })
	if d := sumSeries(m, "otelcol_logx_unixsocket_dropped_records"); d != 0 {
		t.Fatalf("the receiver dropped %.0f lines while the backlog was fed", d)
	}

	a.open.Store(true)
	b.open.Store(true)
	want := int64(len(fed))
	testutil.WaitFor(t, 300*time.Second, "both sides to get the backlog", func() bool {
		return a.lines.Load() >= want && b.lines.Load() >= want
	}, func() string {
		return fmt.Sprintf("log-a %d, log-b %d of %d", a.lines.Load(), b.lines.Load(), want)
	})
	rate := func(s *countingSink) float64 {
		return float64(s.lines.Load()) / time.Duration(s.last.Load()-s.first.Load()).Seconds()
	}
	ra, rb := rate(a), rate(b)
	t.Logf("%d consumer(s): %d lines drained at %.0f lines/s to log-a, %.0f to log-b (%d and %d lines taken: repeats of retried batches included)",
		consumers, want, ra, rb, a.lines.Load(), b.lines.Load())
	return min(ra, rb)
}
