package guard

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string]map[string]float64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			vals := map[string]float64{}
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					c, _ := p.Attributes.Value("component")
					g, _ := p.Attributes.Value("guard")
					vals[c.AsString()+" "+g.AsString()] = float64(p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					c, _ := p.Attributes.Value("component")
					g, _ := p.Attributes.Value("guard")
					vals[c.AsString()+" "+g.AsString()] = p.Value
				}
			}
			out[m.Name] = vals
		}
	}
	return out
}

func TestRegisterReportsDisabledAndUtilization(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	set := componenttest.NewNopTelemetrySettings()
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	var used atomic.Int64
	used.Store(25)
	reg, err := Register(set, component.MustNewIDWithName("tenantbuffer", "a"),
		Guard{Name: "max_buffers", Limit: 100, Use: used.Load},
		Guard{Name: "max_total_bytes", Disabled: true, Limit: 0})
	require.NoError(t, err)

	got := collect(t, reader)
	require.Equal(t, map[string]float64{"tenantbuffer/a max_buffers": 0, "tenantbuffer/a max_total_bytes": 1}, got[MetricDisabled])
	require.Equal(t, map[string]float64{"tenantbuffer/a max_buffers": 0.25}, got[MetricUtilization])

	used.Store(90)
	require.InDelta(t, 0.9, collect(t, reader)[MetricUtilization]["tenantbuffer/a max_buffers"], 1e-9)

	require.NoError(t, reg.Unregister())
	require.Empty(t, collect(t, reader)[MetricDisabled])
	require.NoError(t, (*Registration)(nil).Unregister())
}
