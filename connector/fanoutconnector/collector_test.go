package fanoutconnector_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/collectortest"
)

// A whole collector: a unixsocket receiver (whose stage retries a batch
// refused retryably) feeding two destinations through the connector, one
// of them ("remote") down. The other gets each line exactly once, and
// remote gets them all, in order, once it is back. (With both exporters in
// one pipeline, the collector's fan-out returns remote's refusal, the
// receiver retries the batch, and local gets the same lines again on every
// retry: TestCollectorFanoutReturnsAnyRefusal shows the cause.)
func TestCollectorWithOneDestinationDown(t *testing.T) {
	const lines = 300
	sock := filepath.Join(t.TempDir(), "in.sock")
	remote, local := &collectortest.Sink{}, &collectortest.Sink{}
	remote.SetRefusing(true)
	collectortest.Start(t, fmt.Sprintf(`
receivers:
  unixsocket:
    path: %s
    framing: newline
    format: raw
    peer:
      credentials: false
      systemd_unit: false
connectors:
  fanout:
    retry:
      initial_interval: 1ms
      max_interval: 10ms
exporters:
  sink/remote:
  sink/local:
service:
  pipelines:
    logs:
      receivers: [unixsocket]
      exporters: [fanout]
    logs/remote:
      receivers: [fanout]
      exporters: [sink/remote]
    logs/local:
      receivers: [fanout]
      exporters: [sink/local]
`, sock), collectortest.WithSinks(map[string]*collectortest.Sink{"remote": remote, "local": local}))

	writeLines(t, sock, lines)
	require.Eventually(t, func() bool { return local.LogRecordCount() == lines }, 30*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return remote.RefusedRecords() > 0 }, 30*time.Second, time.Millisecond)
	remote.SetRefusing(false)
	require.Eventually(t, func() bool { return remote.LogRecordCount() == lines }, 30*time.Second, time.Millisecond)
	require.Equal(t, numbered(lines), bodies(local.AllLogs()), "local: every line once, in order")
	require.Equal(t, numbered(lines), bodies(remote.AllLogs()), "remote: every line once, in order, after its outage")
}

func writeLines(t *testing.T, sock string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { _, err := os.Stat(sock); return err == nil }, 30*time.Second, time.Millisecond)
	c, err := net.Dial("unix", sock)
	require.NoError(t, err)
	defer c.Close()
	// Several writes, so that the receiver makes several batches.
	for i := range n {
		_, err := fmt.Fprintf(c, "line %04d\n", i)
		require.NoError(t, err)
	}
}

func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("line %04d", i)
	}
	return out
}

func bodies(all []plog.Logs) []string {
	var out []string
	for _, ld := range all {
		rls := ld.ResourceLogs()
		for i := range rls.Len() {
			sls := rls.At(i).ScopeLogs()
			for j := range sls.Len() {
				recs := sls.At(j).LogRecords()
				for k := range recs.Len() {
					out = append(out, strings.TrimSpace(recs.At(k).Body().AsString()))
				}
			}
		}
	}
	return out
}
