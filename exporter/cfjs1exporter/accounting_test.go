package cfjs1exporter

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/receiver/cfjs1receiver"
)

// startRealReceiver runs this repository's cfjs1 receiver on loopback,
// into sink, with its configuration adjusted by tune.
func startRealReceiver(t *testing.T, sink *consumertest.LogsSink, tune func(*cfjs1receiver.Config)) string {
	t.Helper()
	f := cfjs1receiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*cfjs1receiver.Config)
	cfg.Endpoint = testutil.FreeTCPAddr(t)
	tune(cfg)
	require.NoError(t, cfg.Validate())
	r, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(component.MustNewType("cfjs1")), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return cfg.Endpoint
}

// appendRecords adds n copies of a record made by makeLogs and changed by
// edit to ld.
func appendRecords(ld plog.Logs, n int, edit func(plog.LogRecord)) {
	recs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	proto := makeLogs(1, "app").ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	for range n {
		r := recs.AppendEmpty()
		proto.CopyTo(r)
		edit(r)
	}
}

// counterTotal sums every data point of a counter (-1 when absent).
func counterTotal(t *testing.T, tt *componenttest.Telemetry, name string) int64 {
	m, err := tt.GetMetric(name)
	if err != nil {
		return -1
	}
	var total int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		total += dp.Value
	}
	return total
}

// Every record fed to the exporter ends as exactly one of: delivered
// (acknowledged and in the receiver's pipeline), rejected by the receiver
// with its reason, or dropped by the exporter with its reason; and the
// exporter's own telemetry says which, matching what the real receiver
// did. The exporter's max_line_size is set above the receiver's here, as
// a misconfiguration would, so that both sides' length checks show.
func TestFedEqualsDeliveredRejectedDroppedWithRealReceiver(t *testing.T) {
	sink := new(consumertest.LogsSink)
	addr := startRealReceiver(t, sink, func(c *cfjs1receiver.Config) {
		c.MaxLineSize = 8 << 10
		c.Decode.MaxMembers = 50
		c.Decode.MaxDepth = 4
	})
	cfg := testConfig(EndpointConfig{Name: "log-a", Endpoint: addr})
	cfg.MaxLineSize = 16 << 10
	e, tt := startWithTelemetry(t, patient(cfg))

	const (
		ordinary   = 300
		overRecv   = 7  // between the receiver's limit and the exporter's
		overExp    = 5  // over the exporter's limit
		manyKeys   = 11 // too many attributes for the receiver
		deepNested = 13 // nested deeper than the receiver takes
	)
	fed := 0
	for round := range 3 {
		ld := makeLogs(ordinary/3, "app")
		appendRecords(ld, overRecv, func(r plog.LogRecord) { r.Body().SetStr(strings.Repeat("r", 12<<10)) })
		appendRecords(ld, overExp, func(r plog.LogRecord) { r.Body().SetStr(strings.Repeat("e", 20<<10)) })
		appendRecords(ld, manyKeys, func(r plog.LogRecord) {
			for k := range 60 {
				r.Attributes().PutInt("k"+strings.Repeat("x", k), int64(k))
			}
		})
		appendRecords(ld, deepNested, func(r plog.LogRecord) {
			m := r.Attributes().PutEmptyMap("deep")
			for range 8 {
				m = m.PutEmptyMap("d")
			}
			m.PutStr("leaf", "x")
		})
		// Ordinary records interleaved after the bad ones, so that each
		// verdict has to land on the right line of the batch.
		appendRecords(ld, round+1, func(plog.LogRecord) {})
		fed += ld.LogRecordCount()
		require.NoError(t, e.pushLogs(context.Background(), ld))
	}
	ep := attribute.String("endpoint", "log-a")
	delivered := sumFor(t, tt, "otelcol_logx_cfjs1_exporter_acked", ep)
	rejected := counterTotal(t, tt, "otelcol_logx_cfjs1_exporter_rejected")
	dropped := counterTotal(t, tt, "otelcol_logx_cfjs1_exporter_dropped")
	assert.EqualValues(t, fed, int64(delivered)+rejected+dropped, "fed = delivered + rejected + dropped")

	assert.EqualValues(t, ordinary+1+2+3, delivered)
	assert.Equal(t, int(delivered), sink.LogRecordCount(), "what is counted delivered is what the receiver's pipeline got")
	for reason, n := range map[string]int{"line_too_long": 3 * overRecv, "too_many_members": 3 * manyKeys, "too_deep": 3 * deepNested} {
		assert.EqualValues(t, n, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_rejected", ep, attribute.String("reason", reason)), reason)
	}
	assert.EqualValues(t, 3*overExp, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_dropped", attribute.String("reason", "line_too_long")))
	assert.EqualValues(t, fed-3*overExp, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_sent", ep), "over-long records are never sent")
	for _, ld := range sink.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, r := range sl.LogRecords().All() {
					assert.NotContains(t, r.Body().Str(), "rrrr", "a rejected line reached the pipeline")
				}
			}
		}
	}
	assert.True(t, e.endpoints[0].isUp())
}
