package ratelimitprocessor

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
)

// guardPoints reads a guard metric as guard name -> value.
func guardPoints(t *testing.T, tt *componenttest.Telemetry, name string) map[string]float64 {
	t.Helper()
	m, err := tt.GetMetric(name)
	require.NoError(t, err)
	out := map[string]float64{}
	switch d := m.Data.(type) {
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			g, _ := p.Attributes.Value("guard")
			out[g.AsString()] = p.Value
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			g, _ := p.Attributes.Value("guard")
			out[g.AsString()] = float64(p.Value)
		}
	}
	return out
}

func TestGuardsShowKeyTableAndDryRun(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tt.Shutdown(t.Context()) })
	cfg := defaultConfig()
	cfg.MaxKeys = 100
	cfg.DryRun = true
	p, _ := newTestLimiter(t, cfg, newFakeClock(), tt.NewTelemetrySettings())
	require.NoError(t, p.registerGuards(tt.NewTelemetrySettings(), component.MustNewID("ratelimit")))

	recs := make([]rec, 0, 25)
	for i := range 25 {
		recs = append(recs, rec{service: "svc" + strconv.Itoa(i)})
	}
	passed(t, p, recs)
	assert.Equal(t, map[string]float64{"max_keys": 0, "dry_run": 1}, guardPoints(t, tt, guard.MetricDisabled),
		"dry_run drops nothing: a limit switched off")
	assert.Equal(t, map[string]float64{"max_keys": 0.25}, guardPoints(t, tt, guard.MetricUtilization))
}
