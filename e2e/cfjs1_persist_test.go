package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// persistentEdgeConfig is edgeConfig with the sending queue on disk.
func persistentEdgeConfig(otlpAddr, logA, logB, dir string) string {
	return fmt.Sprintf(`
extensions:
  file_storage/q:
    directory: %s
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
      healthy_for: 500ms
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 500ms
    sending_queue:
      storage: file_storage/q
service:
  extensions: [file_storage/q]
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [cfjs1]
`, dir, otlpAddr, logA, logB)
}

// Records accepted while both sides are down survive a restart of the edge
// collector when the queue is on disk.
func TestPersistentQueueSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	addrA, addrB := testutil.FreeTCPAddr(t), testutil.FreeTCPAddr(t)

	otlpAddr := testutil.FreeTCPAddr(t)
	edge := collectortest.Start(t, persistentEdgeConfig(otlpAddr, addrA, addrB, dir))
	w := newWriter(t, otlpAddr)
	for range 10 {
		w.send(50)
	}
	require.Len(t, w.accepted(), 500)
	require.NoError(t, edge.Shutdown())

	sinkA, sinkB := &collectortest.Sink{}, &collectortest.Sink{}
	startTier2(t, "a", sinkA, addrA)
	startTier2(t, "b", sinkB, addrB)
	otlpAddr2 := testutil.FreeTCPAddr(t)
	collectortest.Start(t, persistentEdgeConfig(otlpAddr2, addrA, addrB, dir))
	testutil.WaitFor(t, 20*time.Second, "queued records delivered after restart", func() bool {
		forA, forB := missing(w.accepted(), sinkA, sinkB)
		return len(forA) == 0 && len(forB) == 0
	})
}
