package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// startKafkaTier2 runs configs/<name>.yaml itself (its ports and state made the
// test's own through the variables the file reads) against the cluster.
func startKafkaTier2(t *testing.T, name, cfjs1Addr string, c *kfake.Cluster) *collectortest.Collector {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "configs", name+".yaml"))
	require.NoError(t, err)
	t.Setenv("LOGX_KAFKA_BROKERS", strings.Join(c.ListenAddrs(), ","))
	t.Setenv("LOGX_CFJS1_ENDPOINT", cfjs1Addr)
	t.Setenv("LOGX_HEALTH_ENDPOINT", testutil.FreeTCPAddr(t))
	t.Setenv("LOGX_STATE_DIR", t.TempDir())
	_, port, _ := strings.Cut(testutil.FreeTCPAddr(t), ":")
	t.Setenv("LOGX_METRICS_PORT", port)
	// Retry fast so that the test does not wait for the production backoff.
	cfg := strings.Replace(string(raw), "initial_interval: 1s", "initial_interval: 50ms", 1)
	return collectortest.Start(t, cfg)
}

// sendOTLP posts n records, ids first..first+n-1, of format "app" from one
// host and two services.
func sendOTLP(t *testing.T, addr string, first, n int) {
	t.Helper()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(logattr.HostName, "edge-1")
	recs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := first; i < first+n; i++ {
		r := recs.AppendEmpty()
		r.Body().SetStr(fmt.Sprintf("record %d", i))
		r.Attributes().PutInt("id", int64(i))
		r.Attributes().PutStr(logattr.CFJS1Format, "app")
		r.Attributes().PutStr(logattr.Service, fmt.Sprintf("svc-%d.service", i%2))
	}
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(t, err)
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Post("http://"+addr+"/v1/logs", "application/x-protobuf", bytes.NewReader(body))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// readIDs consumes topic until every id in 0..n-1 has been seen, and
// returns the records by id (the first copy of each).
func readIDs(t *testing.T, c *kfake.Cluster, topic string, n int) map[int]*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	got := map[int]*kgo.Record{}
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: %d of %d ids arrived", topic, len(got), n)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var id int
			if i := bytes.Index(r.Value, []byte("record ")); i >= 0 {
				if _, err := fmt.Sscanf(string(r.Value[i:]), "record %d", &id); err == nil {
					if _, dup := got[id]; !dup {
						got[id] = r
					}
				}
			}
		})
	}
	return got
}

// Edge → cfjs1 → tier-2 log-a (the real configs/tier2-log-a.yaml) →
// kfake, with log-b down from the start: every record arrives in log-a's
// data topic, and log-b's copy of every record arrives in log-a's
// dead-letter topic for log-b, marked for it.
func TestEndToEndEdgeToKafkaWithLogBDown(t *testing.T) {
	const n = 200
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "logs-app", "logs-dlq-log-b", "logs-unrouted"))
	require.NoError(t, err)
	t.Cleanup(c.Close)

	logA := testutil.FreeTCPAddr(t)
	logB := testutil.FreeTCPAddr(t) // nothing listens: log-b is down
	startKafkaTier2(t, "tier2-log-a", logA, c)
	otlpAddr := testutil.FreeTCPAddr(t)
	collectortest.Start(t, edgeConfig(otlpAddr, logA, logB))

	for i := 0; i < n; i += 50 {
		sendOTLP(t, otlpAddr, i, 50)
	}

	data := readIDs(t, c, "logs-app", n)
	dlq := readIDs(t, c, "logs-dlq-log-b", n)
	for id := range n {
		require.Contains(t, data, id)
		require.Contains(t, dlq, id)
		assert.NotContains(t, string(data[id].Value), "dead_letter_for", "id %d: the original is not marked", id)
		assert.Contains(t, string(dlq[id].Value), `"dead_letter_for":"log-b"`, "id %d: the copy is marked for log-b", id)
		assert.Equal(t, fmt.Sprintf("edge-1/svc-%d.service", id%2), string(data[id].Key))
	}
	// The Kafka value is a cfjs1 line the next reader can decode.
	out := plog.NewLogs()
	rl := out.ResourceLogs().AppendEmpty()
	sl := rl.ScopeLogs().AppendEmpty()
	meta, err := cfjs1.Decode(dlq[7].Value, nil, cfjs1.Target{Resource: rl.Resource(), Scope: sl.Scope(), Record: sl.LogRecords().AppendEmpty()})
	require.NoError(t, err)
	assert.Equal(t, "app", meta.Format)
	assert.Equal(t, "log-b", meta.DeadLetterFor)
}

// Both tier-2 configs start as they are (log-b's too).
func TestTier2ConfigsStart(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	for _, name := range []string{"tier2-log-a", "tier2-log-b"} {
		t.Run(name, func(t *testing.T) {
			col := startKafkaTier2(t, name, testutil.FreeTCPAddr(t), c)
			require.NoError(t, col.Shutdown())
		})
	}
}
