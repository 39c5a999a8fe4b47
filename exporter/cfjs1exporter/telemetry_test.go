package cfjs1exporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/exporter/cfjs1exporter/internal/metadata"
)

// sumFor returns the value of a counter or gauge whose attributes are
// attrs, the exporter's own id (on every endpoint's series) aside.
func sumFor(t *testing.T, tt *componenttest.Telemetry, name string, attrs ...attribute.KeyValue) float64 {
	t.Helper()
	m, err := tt.GetMetric(name)
	if err != nil {
		return -1
	}
	want := attribute.NewSet(attrs...)
	matches := func(s attribute.Set) bool {
		got, _ := attribute.NewSetWithFiltered(s.ToSlice(), func(kv attribute.KeyValue) bool { return kv.Key != "exporter" })
		return got.Equals(&want)
	}
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes) {
				return float64(p.Value)
			}
		}
	case metricdata.Sum[float64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes) {
				return p.Value
			}
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes) {
				return float64(p.Value)
			}
		}
	}
	return -1
}

func TestHalfAlivePeerStateAndTelemetry(t *testing.T) {
	a, b := newLineSink(t, false), newLineSink(t, false)
	cfg := testConfig(EndpointConfig{Name: "log-a", Endpoint: a.addr()}, EndpointConfig{Name: "log-b", Endpoint: b.addr()})
	cfg.Ack.Timeout = 300 * time.Millisecond
	cfg.Ack.HeartbeatInterval = 100 * time.Millisecond
	cfg.Failback.HealthyFor = 500 * time.Millisecond

	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tt.NewTelemetrySettings()
	require.NoError(t, cfg.Validate())
	e, err := newExporter(set, cfg)
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })

	epA, epB := attribute.String("endpoint", "log-a"), attribute.String("endpoint", "log-b")
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(10, "app")))
	assert.EqualValues(t, 10, a.lines.Load())
	assert.EqualValues(t, 10, b.lines.Load())
	assert.EqualValues(t, 1, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_up", epB))

	// log-b reads but no longer acknowledges: the batch times out there and
	// goes to log-a marked for log-b; the push as a whole succeeds.
	b.mute.Store(true)
	start := time.Now()
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(10, "app")))
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.False(t, e.endpoints[1].isUp())
	assert.EqualValues(t, 30, a.lines.Load(), "log-a got its own records and log-b's dead-letter copies")
	assert.EqualValues(t, 0, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_up", epB))
	assert.EqualValues(t, 10, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_dead_lettered", epB, attribute.String("via", "log-a")))
	assert.EqualValues(t, 1, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_transitions", epB, attribute.String("reason", "ack_timeout")))
	assert.EqualValues(t, 30, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_acked", epA))

	assert.Positive(t, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_degraded_seconds", epB), "the current outage counts")
	assert.Zero(t, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_degraded_seconds", epA))

	// While log-b is down its records go straight to log-a as copies.
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(5, "app")))
	assert.EqualValues(t, 15, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_dead_lettered", epB, attribute.String("via", "log-a")))

	// log-b recovers; it is used again only after healthy_for.
	b.mute.Store(false)
	recovered := time.Now()
	// The recovery is counted just after the endpoint is put back in
	// use: wait for the count, not for the state.
	require.Eventually(t, func() bool {
		return sumFor(t, tt, "otelcol_logx_cfjs1_exporter_transitions", epB, attribute.String("reason", "recovered")) == 1
	}, 10*time.Second, 5*time.Millisecond)
	assert.True(t, e.endpoints[1].isUp())
	assert.GreaterOrEqual(t, time.Since(recovered), cfg.Failback.HealthyFor)
	assert.EqualValues(t, 1, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_up", epB))
	assert.Positive(t, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_degraded_seconds", epB))
	before := b.lines.Load()
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(10, "app")))
	assert.Equal(t, before+10, b.lines.Load())
}

func TestTwoExportersToOneEndpointKeepTheirOwnSeries(t *testing.T) {
	// A host's main path and its audit path both reach log-a: each
	// exporter's state and counts are its own series.
	a := newLineSink(t, false)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	for _, name := range []string{"", "audit"} {
		cfg := testConfig(EndpointConfig{Name: "log-a", Endpoint: a.addr()})
		require.NoError(t, cfg.Validate())
		set := exportertest.NewNopSettings(metadata.Type)
		set.ID = component.NewIDWithName(metadata.Type, name)
		set.TelemetrySettings = tt.NewTelemetrySettings()
		e, err := newExporter(set, cfg)
		require.NoError(t, err)
		require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
		t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })
	}
	require.Eventually(t, func() bool {
		m, err := tt.GetMetric("otelcol_logx_cfjs1_exporter_up")
		if err != nil {
			return false
		}
		ids := map[string]bool{}
		for _, p := range m.Data.(metricdata.Gauge[int64]).DataPoints {
			id, _ := p.Attributes.Value("exporter")
			ids[id.AsString()] = p.Value == 1
		}
		return ids["cfjs1"] && ids["cfjs1/audit"]
	}, 10*time.Second, 10*time.Millisecond, "one up series per exporter")
}
