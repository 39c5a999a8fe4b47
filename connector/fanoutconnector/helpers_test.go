package fanoutconnector

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/connector/fanoutconnector/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// Modes of a testDest.
const (
	accept int32 = iota
	refuse       // retryable error
	refuseForGood
)

var errDown = errors.New("test destination: down")

// testDest is a destination pipeline that accepts or refuses on command
// and records, in order, the batches it took (by the id of their first
// record). With mutates it declares MutatesData and changes every batch it
// gets (appends a record) before answering, accepting or not.
type testDest struct {
	mode    atomic.Int32
	mutates bool
	calls   atomic.Int64

	mu      sync.Mutex
	got     []string // batch ids, in the order taken
	records []int    // record count of each batch taken
}

func (d *testDest) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	d.calls.Add(1)
	if d.mutates {
		ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty().Body().SetStr("added")
	}
	switch d.mode.Load() {
	case refuse:
		return errDown
	case refuseForGood:
		return consumererror.NewPermanent(errDown)
	}
	d.mu.Lock()
	d.got = append(d.got, batchID(ld))
	d.records = append(d.records, ld.LogRecordCount())
	d.mu.Unlock()
	return nil
}

func (d *testDest) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: d.mutates}
}

func (d *testDest) taken() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.got...)
}

// newBatch makes a batch of n records whose bodies are "<id>/<i>" plus pad.
func newBatch(id string, n int, pad int) plog.Logs {
	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		recs.AppendEmpty().Body().SetStr(id + "/" + strconv.Itoa(i) + strings.Repeat("x", pad))
	}
	return ld
}

func batchID(ld plog.Logs) string {
	body := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str()
	id, _, _ := strings.Cut(body, "/")
	return id
}

func ids(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// rig is a fanout connector over test destinations, with its metrics.
type rig struct {
	t      testing.TB
	conn   connector.Logs
	reader *sdkmetric.ManualReader
}

// fastRetry retries a backlog at once and often; slowRetry waits an hour
// between attempts, so that a test decides when the next one happens (a
// shutdown cuts the wait).
var (
	fastRetry = RetryConfig{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}
	slowRetry = RetryConfig{InitialInterval: time.Hour, MaxInterval: time.Hour}
)

func newRig(t testing.TB, cfg *Config, dests map[string]consumer.Logs) *rig {
	t.Helper()
	require.NoError(t, cfg.Validate())
	reader := sdkmetric.NewManualReader()
	set := connectortest.NewNopSettings(metadata.Type)
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	routes := map[pipeline.ID]consumer.Logs{}
	for name, d := range dests {
		routes[pipeline.NewIDWithName(pipeline.SignalLogs, name)] = d
	}
	conn, err := NewFactory().CreateLogsToLogs(context.Background(), set, cfg, connector.NewLogsRouter(routes))
	require.NoError(t, err)
	require.NoError(t, conn.Start(context.Background(), componenttest.NewNopHost()))
	r := &rig{t: t, conn: conn, reader: reader}
	t.Cleanup(func() { _ = conn.Shutdown(context.Background()) })
	return r
}

// testConfig has a short drain: a test's cleanup with a destination still
// refusing must not wait the default 5 s. Tests that drain set it longer.
func testConfig(retry RetryConfig) *Config {
	cfg := createDefaultConfig()
	cfg.Retry = retry
	cfg.DrainTimeout = 100 * time.Millisecond
	return cfg
}

// drainingConfig gives the drain all the time a loaded machine may need.
func drainingConfig(retry RetryConfig) *Config {
	cfg := testConfig(retry)
	cfg.DrainTimeout = 30 * time.Second
	return cfg
}

// metric returns the sum of the named metric's points whose attributes
// include every key=value of attrs.
func (r *rig) metric(name string, attrs ...string) int64 {
	r.t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(r.t, r.reader.Collect(context.Background(), &rm))
	var sum int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			var points []metricdata.DataPoint[int64]
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				points = d.DataPoints
			case metricdata.Gauge[int64]:
				points = d.DataPoints
			}
		point:
			for _, p := range points {
				for i := 0; i+1 < len(attrs); i += 2 {
					v, ok := p.Attributes.Value(attribute.Key(attrs[i]))
					if !ok || v.AsString() != attrs[i+1] {
						continue point
					}
				}
				sum += p.Value
			}
		}
	}
	return sum
}

// guardUtilization returns the guard's utilization, or -1 if not reported.
func (r *rig) guardUtilization(name string) float64 {
	r.t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(r.t, r.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[float64]); ok && m.Name == "otelcol_logx_guard_utilization" {
				for _, p := range g.DataPoints {
					if v, _ := p.Attributes.Value("guard"); v.AsString() == name {
						return p.Value
					}
				}
			}
		}
	}
	return -1
}

// waitFor waits until the named counter reaches want (generous bound: the
// background goroutine may be slow on a loaded machine). At least want: a
// counter of a retry that keeps failing may pass want between two looks.
func (r *rig) waitFor(want int64, name string, attrs ...string) {
	r.t.Helper()
	testutil.WaitFor(r.t, 20*time.Second, fmt.Sprintf("%s%v reaching %d", name, attrs, want),
		func() bool { return r.metric(name, attrs...) >= want },
		func() string { return fmt.Sprintf("is %d", r.metric(name, attrs...)) })
}
