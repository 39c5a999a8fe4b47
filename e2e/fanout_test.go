package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
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

// The same collector with both exporters in one pipeline: the
// collector's fan-out returns remote's refusal even though local took the
// request (TestCollectorFanoutReturnsAnyRefusal), so the receiver's stage
// holds it and retries it, and local gets it again on every retry. What
// this asserts is the stage's side: the refused request is retried as it
// is, again and again within the backoff (at most 250 ms between tries),
// for as long as remote refuses, nothing overtaking it; once remote is
// back it gets every line once, in order.
//
// It counts retries by the requests local took, not by records: the
// first request is whatever the receiver read first, as little as one
// line when the writer's first write is read alone (then 30 s of retries
// repeat only some 120 lines, fewer than were written).
func TestCollectorRetriesARefusalOfOnePipeline(t *testing.T) {
	const (
		lines = 300
		tries = 8 // 5+10+20+40+80+160+250 ms of backoff between them
	)
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
exporters:
  sink/remote:
  sink/local:
service:
  pipelines:
    logs:
      receivers: [unixsocket]
      exporters: [sink/remote, sink/local]
`, sock), collectortest.WithSinks(map[string]*collectortest.Sink{"remote": remote, "local": local}))

	writeLines(t, sock, lines)
	state := func() string {
		return fmt.Sprintf("local took %d requests (%d records), remote refused %d records",
			len(local.AllLogs()), local.LogRecordCount(), remote.RefusedRecords())
	}
	// 20 s is for a loaded machine; the backoff itself sums to under 1 s.
	waitOrDump(t, func() bool { return len(local.AllLogs()) >= tries }, 20*time.Second,
		"the stage stopped retrying the refused request", state)
	remote.SetRefusing(false)
	waitOrDump(t, func() bool { return remote.LogRecordCount() == lines }, 20*time.Second,
		"remote, back, did not get every line", state)

	tried := local.AllLogs()[:tries]
	first := bodies(tried[:1])
	require.NotEmpty(t, first)
	require.Equal(t, "line 0000", first[0], "the first request begins with the first line")
	for i, ld := range tried {
		require.Equal(t, first, bodies([]plog.Logs{ld}), "try %d is the refused request as it was", i+1)
	}
	require.Equal(t, numbered(lines), bodies(remote.AllLogs()), "remote: every line once, in order, after its outage")
	t.Logf("the refused request (%d of the %d lines) was tried %d times before remote came back", len(first), lines, len(local.AllLogs())-len(remote.AllLogs())+1)
}

// waitOrDump waits for cond like require.Eventually, and when it does not
// hold in time writes every goroutine's stack to stderr before failing,
// so that a stalled stage shows where it waits.
func waitOrDump(t *testing.T, cond func() bool, timeout time.Duration, msg string, state func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
			t.Fatalf("%s within %v: %s", msg, timeout, state())
		}
		<-tick.C
	}
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
