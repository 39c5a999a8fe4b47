//go:build resilience

package resilience

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// floodConfig is one host's pipeline whose capacity the test sets: the
// unix socket receiver (services by app name, as on a host without
// systemd; fair share as by default) straight to one cfjs1 tier-2 side
// that takes a fixed number of lines a second (pacedSink), with edge.yaml's
// batches (1,000 to 5,000 records) and one consumer. The buffer is 16 MiB,
// about 20 s of the pipeline's capacity in these lines, so that the quiet
// lines queued behind the flood arrive within the test (edge.yaml's 64 MiB
// holds over a minute of it). The exporter's queue is small, so that it
// refuses within seconds of the flood and the receiver's buffer decides
// who loses (10,000 records: not less than the receiver's largest request,
// 8 x 1024 records, which a smaller queue could never take); a window of
// 5,000 lines (not less than a batch, which could never be sent) keeps
// every line's acknowledgement within ack.timeout at the sink's pace.
// %[1]s is the state directory, %[2]s the sink, %[3]d the metrics port.
const floodConfig = `
receivers:
  unixsocket/syslog:
    path: %[1]s/syslog.sock
    transport: stream
    framing: newline
    format: rfc3164
    max_connections_per_uid: 64
    peer:
      credentials: true
      systemd_unit: true
      untrusted_service: app_name
    buffer:
      max_bytes: 16777216
      policy: drop_newest
exporters:
  cfjs1:
    endpoints:
      - name: log-a
        endpoint: %[2]s
    ack:
      timeout: 5s
      window: 5000
    failback:
      initial_backoff: 100ms
      max_backoff: 1s
      healthy_for: 1s
    sending_queue:
      queue_size: 10000
      num_consumers: 1
service:
  telemetry:
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[3]d
  pipelines:
    logs:
      receivers: [unixsocket/syslog]
      exporters: [cfjs1]
`

// pacedSink is a cfjs1 tier-2 stand-in that takes at most rate lines a
// second (in 10 ms slices), acknowledging each slice as it goes, and keeps
// the ids it got in the order it got them. Its pace is the pipeline's
// capacity.
type pacedSink struct {
	l    net.Listener
	rate int
	mu   sync.Mutex
	ids  []uint64
	n    atomic.Int64
}

func newPacedSink(t *testing.T, rate int) *pacedSink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &pacedSink{l: l, rate: rate}
	serveEach(t, l, nil, s.serve)
	return s
}

// serve reads one connection at the sink's pace: a bucket of rate
// tokens a second (at most a tenth of a second's worth saved up), one per
// data line, refilled by the clock, so that a late wake-up of this
// goroutine on a busy machine is made up rather than lost. What it read
// is acknowledged before it waits. Control lines (hello, pings) are
// answered at once and cost nothing.
func (s *pacedSink) serve(conn net.Conn) {
	c := newTier2Conn(conn)
	burst := float64(s.rate) / 10
	tokens, last := burst, time.Now()
	for {
		for tokens < 1 {
			now := time.Now()
			tokens = min(burst, tokens+now.Sub(last).Seconds()*float64(s.rate))
			last = now
			if tokens >= 1 {
				break
			}
			if c.ackPending() != nil {
				return
			}
			time.Sleep(5 * time.Millisecond) // the pace: nothing to synchronise with
		}
		line, err := c.next()
		if err != nil {
			return
		}
		tokens--
		if id, ok := lineID(line); ok {
			s.mu.Lock()
			s.ids = append(s.ids, id)
			s.mu.Unlock()
		}
		s.n.Add(1)
	}
}

// got returns the ids the sink took, in order.
func (s *pacedSink) got() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.ids...)
}

const (
	quietServices = 20
	floodService  = quietServices // svc20; the quiet ones are svc00..svc19
)

// TestFloodBesideQuietServices: a pipeline that takes 4,000 lines/s (a
// tier-2 side that acknowledges no faster), one service flooding the
// receiver at 20 times that (80,000 lines/s, one connection), 20 quiet
// services writing 100 lines/s each (one connection each), for 10 s (60 s
// at full scale). Every quiet service's every line reaches tier 2, in its
// order; the receiver counts no drop for any of them; the flood's drops
// are counted under its own service, and flood lines written = delivered
// + counted. Without the fair share, the quiet services' lines would meet
// a buffer full of the flood and be dropped as buffer_full.
func TestFloodBesideQuietServices(t *testing.T) {
	binary(t)
	const capacity, quietRate = 4000, 100
	floodRate := 20 * capacity
	d := scale(10*time.Second, 60*time.Second)
	dir := t.TempDir()
	sock := filepath.Join(dir, "syslog.sock")
	sink := newPacedSink(t, capacity)
	port := testutil.FreeTCPPort(t)
	col := startCollector(t, "host", "", fmt.Sprintf(floodConfig, dir, sink.l.Addr().String(), port))
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	testutil.WaitFor(t, 30*time.Second, "the socket", func() bool { _, err := os.Stat(sock); return err == nil })

	start := time.Now()
	end := start.Add(d)
	written := make([]int, quietServices+1)
	var slowest [quietServices + 1]time.Duration
	var wg sync.WaitGroup
	errs := make(chan error, quietServices+1)
	writer := func(svc, rate int) {
		defer wg.Done()
		c, err := net.Dial("unix", sock)
		if err != nil {
			errs <- err
			return
		}
		defer c.Close()
		perSlice := max(1, rate/100)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		buf := make([]byte, 0, 160*perSlice)
		seq := 0
		for time.Now().Before(end) {
			<-tick.C
			buf = buf[:0]
			for range perSlice {
				seq++
				buf = appendSeqLine(buf, svc, seq)
			}
			_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			t0 := time.Now()
			if _, err := c.Write(buf); err != nil {
				errs <- fmt.Errorf("svc%02d writing line %d: %w (the collector blocked or closed its socket)", svc, seq, err)
				return
			}
			slowest[svc] = max(slowest[svc], time.Since(t0))
			written[svc] = seq
		}
	}
	for svc := range quietServices {
		wg.Add(1)
		go writer(svc, quietRate)
	}
	wg.Add(1)
	go writer(floodService, floodRate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	quietWritten := 0
	for svc := range quietServices {
		quietWritten += written[svc]
	}
	t.Logf("%s: %d lines of the flood (%.0f/s), %d of 20 quiet services (%.0f/s each); slowest write of the flood %s, of a quiet service %s",
		elapsed.Round(time.Millisecond), written[floodService], float64(written[floodService])/elapsed.Seconds(),
		quietWritten, float64(quietWritten)/quietServices/elapsed.Seconds(), slowest[floodService], maxDuration(slowest[:quietServices]))
	if float64(written[floodService]) < 10*capacity*elapsed.Seconds() {
		t.Fatalf("the flood wrote %d lines in %s, less than 10 times the pipeline's capacity: not the flood this test is about", written[floodService], elapsed)
	}

	// Every quiet line reaches tier 2; the flood's lines are delivered or
	// counted as dropped under its own service.
	dropRe := regexp.MustCompile(`^otelcol_logx_unixsocket_dropped_records`)
	var m map[string]float64
	var quietMissing, floodDelivered int
	var floodDropped float64
	testutil.WaitFor(t, 120*time.Second, "every quiet line at tier 2 and every flood line delivered or counted", func() bool {
		got := sink.got()
		seen := make([]map[int]bool, quietServices+1)
		floodDelivered, quietMissing = 0, quietWritten
		for _, id := range got {
			svc := idService(id)
			if svc == floodService {
				floodDelivered++
				continue
			}
			if seen[svc] == nil {
				seen[svc] = map[int]bool{}
			}
			if !seen[svc][idSeq(id)] {
				seen[svc][idSeq(id)] = true
				quietMissing--
			}
		}
		var err error
		if m, err = series(url, dropRe); err != nil {
			return false
		}
		floodDropped = serviceDrops(m, floodService)
		return quietMissing == 0 && float64(floodDelivered)+floodDropped >= float64(written[floodService])
	}, func() string {
		return fmt.Sprintf("sink took %d; %d of %d quiet lines not at tier 2; flood: %d written, %d delivered, %.0f counted dropped; %s",
			sink.n.Load(), quietMissing, quietWritten, written[floodService], floodDelivered, floodDropped, describe(m))
	})
	for svc := range quietServices {
		if n := serviceDrops(m, svc); n != 0 {
			t.Errorf("svc%02d (quiet): %.0f lines counted dropped", svc, n)
		}
	}
	if floodDropped == 0 {
		t.Fatalf("the flood lost nothing: the pipeline was not over its capacity (%s)", describe(m))
	}
	if float64(floodDelivered)+floodDropped != float64(written[floodService]) {
		t.Errorf("flood: %d written, %d delivered + %.0f counted dropped: fed = delivered + counted drops does not hold (repeats at tier 2?)",
			written[floodService], floodDelivered, floodDropped)
	}
	if other := sumSeries(m, "otelcol_logx_unixsocket_dropped_records") - floodDropped; other != 0 {
		t.Errorf("%.0f drops counted under other services than the flood's: %s", other, describe(m))
	}
	checkQuietOrder(t, sink.got())
	if !col.running() {
		t.Fatalf("the collector exited: %v", col.err)
	}
	t.Logf("tier 2 took %d lines in all (%.0f/s over the run); quiet: %d of %d delivered, none dropped; flood: %d delivered, %.0f dropped (%s)",
		sink.n.Load(), float64(sink.n.Load())/time.Since(start).Seconds(), quietWritten, quietWritten, floodDelivered, floodDropped, describe(m))
}

// serviceDrops sums the receiver's drop counts of svc (every reason).
func serviceDrops(m map[string]float64, svc int) float64 {
	var n float64
	label := fmt.Sprintf(`service="svc%02d"`, svc)
	for k, v := range m {
		if strings.Contains(k, label) {
			n += v
		}
	}
	return n
}

// checkQuietOrder fails the test unless each quiet service's lines reached
// tier 2 in the order written: a line after a later one of its service is
// allowed only as an exact repeat of one already there (at-least-once),
// counted and logged.
func checkQuietOrder(t *testing.T, ids []uint64) {
	t.Helper()
	last := map[int]int{}
	seen := map[uint64]bool{}
	repeats := 0
	for i, id := range ids {
		svc, seq := idService(id), idSeq(id)
		if svc == floodService {
			continue
		}
		switch {
		case seq > last[svc]:
			last[svc] = seq
		case seen[id]:
			if repeats == 0 {
				t.Logf("tier 2's line %d: svc%02d seq %d again after seq %d (a repeat)", i, svc, seq, last[svc])
			}
			repeats++
		default:
			t.Errorf("tier 2's line %d: svc%02d seq %d after seq %d, and not there before: out of order", i, svc, seq, last[svc])
			return
		}
		seen[id] = true
	}
	if repeats > 0 {
		t.Logf("%d quiet lines reached tier 2 twice (at-least-once repeats)", repeats)
	}
}

func maxDuration(ds []time.Duration) time.Duration {
	var out time.Duration
	for _, d := range ds {
		out = max(out, d)
	}
	return out
}

// appendSeqLine appends seqLine(svc, seq) without fmt: the flood writes
// 80,000 of them a second from a process under the race detector.
func appendSeqLine(b []byte, svc, seq int) []byte {
	b = append(b, "<30>Nov 22 04:00:00 svc"...)
	if svc < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(svc), 10)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(1000+svc), 10)
	b = append(b, "]: req="...)
	hex := strconv.FormatUint(seqID(svc, seq), 16)
	for range 16 - len(hex) {
		b = append(b, '0')
	}
	b = append(b, hex...)
	b = append(b, " seq="...)
	b = strconv.AppendInt(b, int64(seq), 10)
	return append(b, " GET /api/v1/items status=200 dur_ms=12\n"...)
}

// TestAppendSeqLine: the flood's lines are seqLine's, byte for byte.
func TestAppendSeqLine(t *testing.T) {
	for _, c := range [][2]int{{0, 1}, {7, 12345}, {20, 999999}} {
		if got, want := string(appendSeqLine(nil, c[0], c[1])), string(seqLine(c[0], c[1])); got != want {
			t.Errorf("appendSeqLine(%d, %d) = %q, want %q", c[0], c[1], got, want)
		}
	}
}
