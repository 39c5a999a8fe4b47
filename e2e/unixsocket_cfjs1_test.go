package e2e

import (
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/otelcol"

	"github.com/otelcol-logx/otelcol-logx/components"
	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver"
)

// withUnixSocket adds the unixsocket receiver (for as long as it is not in
// components.Factories yet).
func withUnixSocket() collectortest.Option {
	return collectortest.WithFactories(func() (otelcol.Factories, error) {
		f, err := components.Factories()
		if err != nil {
			return f, err
		}
		u := unixsocketreceiver.NewFactory()
		f.Receivers[u.Type()] = u
		return f, nil
	})
}

// socketWriter writes numbered lines to a unix stream socket, each write
// bounded by a deadline: a write that cannot complete in time fails the test
// (the receivers' guarantee that writers never block).
type socketWriter struct {
	t    *testing.T
	conn net.Conn
	mu   sync.Mutex
	next int
}

func (w *socketWriter) write(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b []byte
	for range n {
		b = fmt.Appendf(b, "record %d\n", w.next)
		w.next++
	}
	require.NoError(w.t, w.conn.SetWriteDeadline(time.Now().Add(2*time.Second)))
	_, err := w.conn.Write(b)
	require.NoError(w.t, err, "a writer to the edge's socket was blocked")
}

func (w *socketWriter) ids() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]int, w.next)
	for i := range ids {
		ids[i] = i
	}
	return ids
}

// The edge of the data flow: apps write lines to a unix socket; the edge ships them
// with cfjs1 to log-a and log-b. log-b is killed, then log-a too, then both
// come back: the writer never blocks and every line is delivered for both.
func TestUnixSocketEdgeLogBKilledThenBothDown(t *testing.T) {
	sinkA, sinkB := &collectortest.Sink{}, &collectortest.Sink{}
	a := startTier2(t, "a", sinkA, testutil.FreeTCPAddr(t))
	b := startTier2(t, "b", sinkB, testutil.FreeTCPAddr(t))
	sock := filepath.Join(t.TempDir(), "log.sock")
	collectortest.Start(t, fmt.Sprintf(`
receivers:
  unixsocket:
    path: %s
    framing: newline
    format: raw
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
service:
  pipelines:
    logs:
      receivers: [unixsocket]
      exporters: [cfjs1]
`, sock, a.addr, b.addr, healthyFor), withUnixSocket())

	conn, err := net.Dial("unix", sock)
	require.NoError(t, err)
	defer conn.Close()
	w := &socketWriter{t: t, conn: conn}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				w.write(20)
			}
		}
	}()
	var once sync.Once
	stopWriter := func() { once.Do(func() { close(stop); <-done }) }
	defer stopWriter()

	testutil.WaitFor(t, 10*time.Second, "traffic at log-b", func() bool { return sinkB.LogRecordCount() > 100 })
	b.kill()
	testutil.WaitFor(t, 5*time.Second, "dead-letter copies for log-b at log-a", func() bool { return deadLetterCount(sinkA, "log-b") > 100 })
	a.kill()
	atDown := len(w.ids())
	testutil.WaitFor(t, 10*time.Second, "the edge reading while both are down", func() bool { return len(w.ids()) > atDown+500 })
	a.start()
	b.start()
	testutil.WaitFor(t, 15*time.Second, "traffic back at log-b", func() bool { return len(inspect(sinkB).direct) > 0 && sinkB.LogRecordCount() > 200 })
	stopWriter()

	ids := w.ids()
	deadline := time.Now().Add(30 * time.Second)
	for {
		forA, forB := missing(ids, sinkA, sinkB)
		if len(forA) == 0 && len(forB) == 0 {
			t.Logf("%d lines written to the socket, all delivered for log-a and log-b", len(ids))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lost: %d for log-a (e.g. %v), %d for log-b (e.g. %v) of %d", len(forA), head(forA), len(forB), head(forB), len(ids))
		}
		time.Sleep(20 * time.Millisecond) // polling a condition with a deadline
	}
}
