//go:build resilience

package resilience

import (
	"bufio"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// ackFeeder writes cfjs1 lines to a cfjs1 receiver with the acknowledgement
// protocol: a line is "accepted" once the receiver acknowledged it, i.e.
// once the edge's pipeline (its persistent queue) took it.
type ackFeeder struct {
	mu    sync.Mutex
	sent  []uint64 // sent[i] is the id of data line i+1 of the connection
	acked atomic.Uint64
}

var ackRe = regexp.MustCompile(`^\{"ack":(\d+)\}`)

// run feeds at rate lines/s until the connection breaks or d passes.
func (f *ackFeeder) run(addr string, next *atomic.Uint64, phase, rate int, d time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte(cfjs1.HelloLineV1)); err != nil {
		return err
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			if m := ackRe.FindSubmatch(sc.Bytes()); m != nil {
				n, _ := strconv.ParseUint(string(m[1]), 10, 64)
				f.acked.Store(n)
			}
		}
	}()
	perTick := max(1, rate/100)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(d)
	buf := make([]byte, 0, 256*perTick)
	for time.Now().Before(end) {
		select {
		case <-tick.C:
		case <-readerDone:
			return nil // the edge went away (killed)
		}
		buf = buf[:0]
		f.mu.Lock()
		for range perTick {
			id := next.Add(1)
			f.sent = append(f.sent, id)
			buf = append(buf, cfjs1Line(id, phase)...)
		}
		f.mu.Unlock()
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(buf); err != nil {
			return nil // the edge went away (killed)
		}
	}
	// Give the last acks a moment, bounded.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && f.acked.Load() < uint64(len(f.sent)) {
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func (f *ackFeeder) accepted() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := min(int(f.acked.Load()), len(f.sent))
	return append([]uint64(nil), f.sent[:n]...)
}

func edgeWithQueueConfig(in, out, storage string) string {
	return fmt.Sprintf(`
extensions:
  file_storage/q:
    directory: %s
    create_directory: true
receivers:
  cfjs1:
    endpoint: %s
exporters:
  cfjs1:
    endpoints:
      - name: log-a
        endpoint: %s
    failback:
      initial_backoff: 100ms
      healthy_for: 1s
    sending_queue:
      storage: file_storage/q
      queue_size: 1000000
service:
  extensions: [file_storage/q]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [cfjs1]
      exporters: [cfjs1]
`, storage, in, out)
}

// TestKill9PersistentQueue kills the edge with SIGKILL while it is under
// load, several times, restarting it on the same persistent queue: every
// line it acknowledged must reach the sink (duplicates allowed, counted).
func TestKill9PersistentQueue(t *testing.T) {
	binary(t)
	sink := newAckSink(t, "127.0.0.1:0")
	in := fmt.Sprintf("127.0.0.1:%d", testutil.FreeTCPPort(t))
	cfg := edgeWithQueueConfig(in, sink.addr(), t.TempDir())
	cycles := scale(2, 6)
	rate := scale(3000, 10000)

	var next atomic.Uint64
	var accepted []uint64
	for cycle := range cycles {
		edge := startCollector(t, fmt.Sprintf("edge-%d", cycle), "", cfg)
		testutil.WaitFor(t, 30*time.Second, "the edge to listen", func() bool {
			c, err := net.Dial("tcp", in)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		// In every other cycle the sink stops reading, so that the kill
		// hits a persistent queue full of undelivered lines.
		sink.blackhole.Store(cycle%2 == 0)
		f := &ackFeeder{}
		errc := make(chan error, 1)
		go func() { errc <- f.run(in, &next, cycle, rate, 20*time.Second) }()
		// Kill once the edge has accepted a good amount, mid-stream.
		testutil.WaitFor(t, 30*time.Second, "the edge to accept lines", func() bool { return f.acked.Load() >= uint64(rate) })
		edge.kill9()
		if err := <-errc; err != nil {
			t.Fatalf("feeding cycle %d: %v", cycle, err)
		}
		got := f.accepted()
		direct, _ := sink.snapshot()
		t.Logf("cycle %d (sink black-holed: %v): %d lines sent, %d acknowledged before kill -9; sink has %d distinct so far",
			cycle, cycle%2 == 0, len(f.sent), len(got), len(direct))
		accepted = append(accepted, got...)
	}

	// Restart once more and let the persistent queue drain.
	sink.blackhole.Store(false)
	startCollector(t, "edge-final", "", cfg)
	var missing int
	var first []uint64
	testutil.WaitFor(t, scale(90*time.Second, 180*time.Second), "every accepted line at the sink", func() bool {
		direct, _ := sink.snapshot()
		missing, first = direct.missing(accepted)
		return missing == 0
	})
	direct, _ := sink.snapshot()
	t.Logf("accepted %d, delivered %d distinct, duplicates %d, lost %d", len(accepted), len(direct), direct.duplicates(), missing)
	if missing != 0 {
		t.Fatalf("%d accepted lines lost, e.g. %x", missing, first)
	}
}
