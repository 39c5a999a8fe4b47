package kafkatopicsexporter

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// outage makes the cluster close the connection of every request while
// down is set: to the client, the broker is unreachable.
type outage struct {
	down    atomic.Bool
	refused atomic.Int64
}

func newOutage(c *kfake.Cluster) *outage {
	o := &outage{}
	c.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !o.down.Load() {
			return nil, nil, false // let the cluster answer
		}
		o.refused.Add(1)
		return nil, errors.New("outage"), true // closes the connection
	})
	return o
}

// The broker goes away while records are queued and being sent, comes
// back, and every record arrives: retriable failures went back to the
// queue and retry (or, in the first moments, to the partition backlogs),
// not to the floor.
func TestBrokerOutageAndRecoveryLosesNothing(t *testing.T) {
	const total, perCall = 3000, 100
	c := newCluster(t, 4)
	o := newOutage(c)

	cfg := testConfig(c)
	cfg.Producer.DeliveryTimeout = time.Second
	cfg.Timeout = 5 * time.Second
	q := exporterhelper.NewDefaultQueueConfig()
	q.NumConsumers = 4
	cfg.QueueConfig = configoptional.Some(q)
	cfg.RetryConfig.Enabled = true
	cfg.RetryConfig.InitialInterval = 50 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 200 * time.Millisecond
	cfg.RetryConfig.MaxElapsedTime = 0 // retry until it works
	h := startExporter(t, cfg)

	// Warm up: the client knows the cluster, then the cluster goes away.
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(rec{host: "h", service: "warm", format: "app", seq: 0})))
	consume(t, c, "logs-app", 1)
	o.down.Store(true)

	seq := 0
	send := func(calls int) {
		for range calls {
			recs := make([]rec, perCall)
			for i := range recs {
				seq++
				recs[i] = rec{host: "h", service: "s.service", format: "app", seq: seq}
			}
			require.NoError(t, h.exp.ConsumeLogs(context.Background(), makeLogs(recs...)))
		}
	}
	send(total / perCall / 2)
	// The outage is real: requests were refused, and records went back to
	// the retry or, sent in the first moments of the outage, to the
	// partition backlogs (which take nothing once no partition has
	// answered for a while).
	testutil.WaitFor(t, 20*time.Second, "records handed back for retry or backlogged", func() bool {
		return h.counter("otelcol_logx_kafkatopics_records_retried", nil)+
			h.counter("otelcol_logx_kafkatopics_records_backlogged", nil) > 0
	})
	require.Positive(t, o.refused.Load())
	send(total / perCall / 2)

	o.down.Store(false)
	seen := map[int]int{}
	read := 0
	got := consumeUntil(t, c, "logs-app", func(got []*kgo.Record) bool {
		for _, r := range got[read:] {
			seen[seqOf(t, r)]++
		}
		read = len(got)
		return len(seen) == total+1
	})
	for s := 1; s <= total; s++ {
		require.Positive(t, seen[s], "record %d lost", s)
	}
	dups := len(got) - 1 - total
	t.Logf("outage: %d requests refused, %d records backlogged, %d retried, %d duplicates (at-least-once)",
		o.refused.Load(), h.counter("otelcol_logx_kafkatopics_records_backlogged", nil),
		h.counter("otelcol_logx_kafkatopics_records_retried", nil), dups)
	assert.Equal(t, int64(0), h.counter("otelcol_logx_kafkatopics_records_dropped", nil))
}
