package logfileexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
)

// guardValues returns a guard gauge's values by guard name (empty when
// the metric has no points).
func (env *testEnv) guardValues(name string) map[string]float64 {
	env.t.Helper()
	out := map[string]float64{}
	m, err := env.tt.GetMetric(name)
	if err != nil {
		return out
	}
	switch d := m.Data.(type) {
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			c, _ := p.Attributes.Value("component")
			require.Equal(env.t, env.e.set.ID.String(), c.AsString())
			g, _ := p.Attributes.Value("guard")
			out[g.AsString()] = float64(p.Value)
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			g, _ := p.Attributes.Value("guard")
			out[g.AsString()] = p.Value
		}
	}
	return out
}

func TestGuardsReported(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "{logx.service}.log"
		c.MaxPaths = 4
		c.MaxOpenFiles = 8
		c.DiskGuard.MaxTotalBytes = 1000
	})
	env.push(lines("a", "0123456789")) // 11 bytes
	env.push(lines("b", "0123456789"))
	env.push(lines("c", "0123456789"))

	assert.Equal(t, map[string]float64{
		"max_paths": 0, "max_open_files": 0, "disk_guard.max_total_bytes": 0, "disk_guard.min_free_bytes": 0,
	}, env.guardValues(guard.MetricDisabled))
	util := env.guardValues(guard.MetricUtilization)
	assert.InDelta(t, 3.0/4, util["max_paths"], 1e-9)
	assert.InDelta(t, 3.0/8, util["max_open_files"], 1e-9)
	assert.InDelta(t, 33.0/1000, util["disk_guard.max_total_bytes"], 1e-9)
	assert.Len(t, util, 3, "min_free_bytes is a floor: no utilization")

	require.NoError(t, env.e.shutdown(context.Background()))
	assert.Empty(t, env.guardValues(guard.MetricDisabled), "unregistered at shutdown")
}

func TestGuardsSwitchedOffAreVisible(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.MaxPaths = 0
		c.DiskGuard.MaxTotalBytes = 0
		c.DiskGuard.MinFreeBytes = 0
	})
	assert.Equal(t, map[string]float64{
		"max_paths": 1, "max_open_files": 0, "disk_guard.max_total_bytes": 1, "disk_guard.min_free_bytes": 1,
	}, env.guardValues(guard.MetricDisabled))
	assert.Equal(t, map[string]float64{"max_open_files": 0}, env.guardValues(guard.MetricUtilization))
}
