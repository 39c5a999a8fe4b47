package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// healthyFor is the failback hysteresis of the tests' edge collector; the
// failure detection runs on the default settings.
const healthyFor = 2 * time.Second

// edgeConfig: OTLP in (the test's writer), cfjs1 out to log-a and log-b.
func edgeConfig(otlpAddr, logA, logB string) string {
	return edgeConfigExtra(otlpAddr, logA, logB, "")
}

// edgeConfigExtra adds exporter settings (indented for the cfjs1 exporter).
func edgeConfigExtra(otlpAddr, logA, logB, extra string) string {
	return fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
exporters:
  cfjs1:
    endpoints:
      - name: log-a
        endpoint: %s
      - name: log-b
        endpoint: %s
    failback:
      initial_backoff: 100ms
      max_backoff: 500ms
      healthy_for: %s
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 500ms
%s
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [cfjs1]
`, otlpAddr, logA, logB, healthyFor, extra)
}

// tier2Config: cfjs1 in, a sink out.
func tier2Config(addr, sink string) string {
	return fmt.Sprintf(`
receivers:
  cfjs1:
    endpoint: %s
exporters:
  sink/%s: {}
service:
  pipelines:
    logs:
      receivers: [cfjs1]
      exporters: [sink/%s]
`, addr, sink, sink)
}

// writer sends numbered records to the edge collector (OTLP/HTTP: the
// collector's start-up sets gRPC's global logger, which races with a live
// gRPC client when tier-2 collectors are restarted mid-test) and remembers
// which ones the collector accepted; it fails the test if a call blocks.
type writer struct {
	t      *testing.T
	url    string
	client *http.Client
	mu     sync.Mutex
	next   int
	ok     []int
}

func newWriter(t *testing.T, addr string) *writer {
	client := &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	return &writer{t: t, url: "http://" + addr + "/v1/logs", client: client}
}

// send writes one batch of n records.
func (w *writer) send(n int) {
	w.mu.Lock()
	first := w.next
	w.next += n
	w.mu.Unlock()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(logattr.HostName, "edge-1")
	recs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := first; i < first+n; i++ {
		r := recs.AppendEmpty()
		r.Body().SetStr(fmt.Sprintf("record %d", i))
		r.Attributes().PutInt("id", int64(i))
		r.Attributes().PutStr(logattr.CFJS1Format, "app")
	}
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(w.t, err)
	start := time.Now()
	resp, err := w.client.Post(w.url, "application/x-protobuf", bytes.NewReader(body))
	// The writer is never held up, whatever happens downstream
	// (docs/design.md, principle 1).
	assert.Less(w.t, time.Since(start), 2*time.Second, "an export call blocked")
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return
	}
	w.mu.Lock()
	for i := first; i < first+n; i++ {
		w.ok = append(w.ok, i)
	}
	w.mu.Unlock()
}

// run sends a batch every 10ms until stop is closed.
func (w *writer) run(stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				w.send(20)
			}
		}
	}()
	return done
}

func (w *writer) accepted() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.ok...)
}

// seen is what a tier-2 sink holds: ids received directly, and ids
// received as dead-letter copies, by the endpoint they were meant for.
type seen struct {
	direct     map[int]bool
	deadLetter map[string]map[int]bool
}

func inspect(s *collectortest.Sink) seen {
	out := seen{direct: map[int]bool{}, deadLetter: map[string]map[int]bool{}}
	for _, ld := range s.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, r := range sl.LogRecords().All() {
					id := recordID(r)
					if dl, ok := r.Attributes().Get(logattr.CFJS1DeadLetterFor); ok {
						if out.deadLetter[dl.Str()] == nil {
							out.deadLetter[dl.Str()] = map[int]bool{}
						}
						out.deadLetter[dl.Str()][id] = true
						continue
					}
					out.direct[id] = true
				}
			}
		}
	}
	return out
}

// recordID is the writer's number of a record: its "id" attribute, or the
// N of a body "record N" (lines written to a socket carry no attributes).
func recordID(r plog.LogRecord) int {
	if id, ok := r.Attributes().Get("id"); ok {
		return int(id.Int())
	}
	var n int
	if _, err := fmt.Sscanf(r.Body().Str(), "record %d", &n); err != nil {
		return -1
	}
	return n
}

// missing lists the accepted ids not delivered for each side: at the side
// itself, or as a dead-letter copy for it at the other.
func missing(ids []int, a, b *collectortest.Sink) (forA, forB []int) {
	sa, sb := inspect(a), inspect(b)
	for _, id := range ids {
		if !sa.direct[id] && !sb.deadLetter["log-a"][id] {
			forA = append(forA, id)
		}
		if !sb.direct[id] && !sa.deadLetter["log-b"][id] {
			forB = append(forB, id)
		}
	}
	return forA, forB
}

func requireNoLoss(t *testing.T, w *writer, a, b *collectortest.Sink) {
	t.Helper()
	ids := w.accepted()
	require.NotEmpty(t, ids)
	deadline := time.Now().Add(30 * time.Second)
	for {
		forA, forB := missing(ids, a, b)
		if len(forA) == 0 && len(forB) == 0 {
			t.Logf("%d records accepted by the edge, all delivered for log-a and log-b", len(ids))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lost: %d for log-a (e.g. %v), %d for log-b (e.g. %v) of %d", len(forA), head(forA), len(forB), head(forB), len(ids))
		}
		time.Sleep(20 * time.Millisecond) // polling a condition with a deadline
	}
}

func head(s []int) []int { return s[:min(len(s), 5)] }

type tier2 struct {
	t    *testing.T
	addr string
	sink *collectortest.Sink
	name string
	col  *collectortest.Collector
}

func startTier2(t *testing.T, name string, sink *collectortest.Sink, addr string) *tier2 {
	t2 := &tier2{t: t, addr: addr, sink: sink, name: name}
	t2.start()
	return t2
}

func (t2 *tier2) start() {
	t2.col = collectortest.Start(t2.t, tier2Config(t2.addr, t2.name), collectortest.WithSinks(map[string]*collectortest.Sink{t2.name: t2.sink}))
}

func (t2 *tier2) kill() { require.NoError(t2.t, t2.col.Shutdown()) }

func deadLetterCount(s *collectortest.Sink, meantFor string) int {
	return len(inspect(s).deadLetter[meantFor])
}

func TestHalfAliveLogBFailsOverAndBack(t *testing.T) {
	sinkA, sinkB := &collectortest.Sink{}, &collectortest.Sink{}
	a := startTier2(t, "a", sinkA, testutil.FreeTCPAddr(t))
	b := startTier2(t, "b", sinkB, testutil.FreeTCPAddr(t))
	proxy := newHalfAliveProxy(t, b.addr)
	otlpAddr := testutil.FreeTCPAddr(t)
	collectortest.Start(t, edgeConfig(otlpAddr, a.addr, proxy.addr()))

	w := newWriter(t, otlpAddr)
	stop := make(chan struct{})
	done := w.run(stop)
	var once sync.Once
	stopWriter := func() { once.Do(func() { close(stop); <-done }) }
	defer stopWriter()

	testutil.WaitFor(t, 10*time.Second, "traffic at log-b", func() bool { return sinkB.LogRecordCount() > 100 })

	// log-b goes half alive: connections open, nothing handled.
	stalledAt := time.Now()
	proxy.stall()
	detected := testutil.WaitFor(t, 5*time.Second, "dead-letter copies for log-b at log-a", func() bool { return deadLetterCount(sinkA, "log-b") > 0 })
	t.Logf("half-alive log-b detected and dead-lettered after %v", detected.Sub(stalledAt))
	assert.Less(t, detected.Sub(stalledAt), 2*time.Second, "a half-alive peer must be found within 2s on default settings")

	// Keep running degraded for a while, then recover.
	before := deadLetterCount(sinkA, "log-b")
	testutil.WaitFor(t, 10*time.Second, "more dead-letter traffic", func() bool { return deadLetterCount(sinkA, "log-b") > before+200 })
	atB := sinkB.LogRecordCount()
	recoveredAt := time.Now()
	proxy.unstall()
	back := testutil.WaitFor(t, 15*time.Second, "traffic back at log-b", func() bool { return sinkB.LogRecordCount() > atB })
	t.Logf("traffic back at log-b %v after recovery (healthy_for %v)", back.Sub(recoveredAt), healthyFor)
	assert.GreaterOrEqual(t, back.Sub(recoveredAt), healthyFor, "failback before the hysteresis time")

	stopWriter()
	requireNoLoss(t, w, sinkA, sinkB)
}

func TestKilledLogBFailsOverAndBack(t *testing.T) {
	sinkA, sinkB := &collectortest.Sink{}, &collectortest.Sink{}
	a := startTier2(t, "a", sinkA, testutil.FreeTCPAddr(t))
	b := startTier2(t, "b", sinkB, testutil.FreeTCPAddr(t))
	otlpAddr := testutil.FreeTCPAddr(t)
	collectortest.Start(t, edgeConfig(otlpAddr, a.addr, b.addr))

	w := newWriter(t, otlpAddr)
	stop := make(chan struct{})
	done := w.run(stop)

	testutil.WaitFor(t, 10*time.Second, "traffic at log-b", func() bool { return sinkB.LogRecordCount() > 100 })
	killedAt := time.Now()
	b.kill()
	detected := testutil.WaitFor(t, 5*time.Second, "dead-letter copies for log-b at log-a", func() bool { return deadLetterCount(sinkA, "log-b") > 0 })
	t.Logf("killed log-b dead-lettered after %v", detected.Sub(killedAt))
	assert.Less(t, detected.Sub(killedAt), 2*time.Second)

	atB := sinkB.LogRecordCount()
	restartedAt := time.Now()
	b.start()
	back := testutil.WaitFor(t, 15*time.Second, "traffic back at log-b", func() bool { return sinkB.LogRecordCount() > atB })
	assert.GreaterOrEqual(t, back.Sub(restartedAt), healthyFor, "failback before the hysteresis time")

	close(stop)
	<-done
	requireNoLoss(t, w, sinkA, sinkB)
}

func TestBothDownQueueHoldsThenDelivers(t *testing.T) {
	sinkA, sinkB := &collectortest.Sink{}, &collectortest.Sink{}
	a := startTier2(t, "a", sinkA, testutil.FreeTCPAddr(t))
	b := startTier2(t, "b", sinkB, testutil.FreeTCPAddr(t))
	otlpAddr := testutil.FreeTCPAddr(t)
	collectortest.Start(t, edgeConfig(otlpAddr, a.addr, b.addr))

	w := newWriter(t, otlpAddr)
	stop := make(chan struct{})
	done := w.run(stop)
	testutil.WaitFor(t, 10*time.Second, "traffic at log-a and log-b", func() bool {
		return sinkA.LogRecordCount() > 100 && sinkB.LogRecordCount() > 100
	})
	a.kill()
	b.kill()
	// The writer goes on (and its calls must not block, see writer.send)
	// while nothing can be delivered.
	downAt := len(w.accepted())
	testutil.WaitFor(t, 10*time.Second, "the edge accepting while both are down", func() bool { return len(w.accepted()) > downAt+1000 })
	a.start()
	b.start()
	close(stop)
	<-done
	requireNoLoss(t, w, sinkA, sinkB)
}

// With both sides down from the start and a small queue, the queue fills
// and then refuses at once: the writer is told no (and can count it) but is
// never held up, and what was accepted is delivered after recovery.
func TestBothDownFullQueueRefusesWithoutBlocking(t *testing.T) {
	addrA, addrB := testutil.FreeTCPAddr(t), testutil.FreeTCPAddr(t)
	otlpAddr := testutil.FreeTCPAddr(t)
	collectortest.Start(t, edgeConfigExtra(otlpAddr, addrA, addrB, `
    sending_queue:
      sizer: items
      queue_size: 1000
      num_consumers: 1
      batch:
        flush_timeout: 10ms
        min_size: 100
        max_size: 100`))
	w := newWriter(t, otlpAddr)
	for range 30 {
		w.send(100) // each call is bounded by writer.send's assertion
	}
	accepted := len(w.accepted())
	t.Logf("accepted %d of 3000 records with both sides down", accepted)
	require.Less(t, accepted, 3000, "the queue is bounded")
	require.GreaterOrEqual(t, accepted, 1000, "the queue holds what fits")

	sinkA, sinkB := &collectortest.Sink{}, &collectortest.Sink{}
	startTier2(t, "a", sinkA, addrA)
	startTier2(t, "b", sinkB, addrB)
	requireNoLoss(t, w, sinkA, sinkB)
}
