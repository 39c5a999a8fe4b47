package tenantbufferexporter

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
)

// guardValues returns a guard metric's points by guard name; every point
// must be the exporter's, under its configured ID.
func guardValues(t *testing.T, tel *componenttest.Telemetry, e *tenantBufferExporter, name string) map[string]float64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	if err != nil {
		return nil
	}
	out := map[string]float64{}
	switch d := m.Data.(type) {
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			c, _ := p.Attributes.Value("component")
			g, _ := p.Attributes.Value("guard")
			require.Equal(t, e.id.String(), c.AsString())
			out[g.AsString()] = float64(p.Value)
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			c, _ := p.Attributes.Value("component")
			g, _ := p.Attributes.Value("guard")
			require.Equal(t, e.id.String(), c.AsString())
			out[g.AsString()] = p.Value
		}
	}
	return out
}

func gaugeValue(t *testing.T, tel *componenttest.Telemetry, name string) (int64, bool) {
	t.Helper()
	m, err := tel.GetMetric(name)
	if err != nil {
		return 0, false
	}
	pts := m.Data.(metricdata.Gauge[int64]).DataPoints
	if len(pts) == 0 {
		return 0, false
	}
	return pts[0].Value, true
}

// Every cap of the store is reported: switched off or not, and how full.
// The buffer count's utilization is the signal of a jump in tenants.
func TestExporterReportsStoreGuards(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	cfg := testConfig(t.TempDir())
	cfg.Limits.MaxBuffers = 10
	cfg.Limits.MaxTotalBytes = 1 << 20
	cfg.Limits.MaxBytesPerTenant = 64 << 10
	_, e := startExporter(t, cfg, tel)
	require.NoError(t, e.consumeLogs(context.Background(), makeLogs([]string{"a", "b", "c", "d"}, 50)))
	e.Store().Sweep()
	u := e.Store().Usage()

	disabled := guardValues(t, tel, e, guard.MetricDisabled)
	require.Equal(t, map[string]float64{
		"limits.max_buffers": 0, "limits.max_total_bytes": 0, "limits.max_bytes_per_tenant": 0,
		"limits.min_free_disk_bytes": 0, "limits.max_open_files": 0, "retention.max_age": 0,
	}, disabled)
	util := guardValues(t, tel, e, guard.MetricUtilization)
	require.InDelta(t, 0.4, util["limits.max_buffers"], 1e-9)
	require.InDelta(t, float64(u.Bytes)/float64(1<<20), util["limits.max_total_bytes"], 1e-9)
	require.Positive(t, util["limits.max_total_bytes"])
	require.InDelta(t, float64(u.LargestTenantBytes)/float64(64<<10), util["limits.max_bytes_per_tenant"], 1e-9)
	require.Positive(t, util["limits.max_bytes_per_tenant"])
	require.InDelta(t, 4.0/256, util["limits.max_open_files"], 1e-9)
	require.Contains(t, util, "limits.min_free_disk_bytes")
	require.Less(t, util["limits.min_free_disk_bytes"], 1.0)
	require.NotContains(t, util, "retention.max_age", "no utilization for an age")

	budget, ok := gaugeValue(t, tel, "otelcol_logx_tenantbuffer_budget_bytes")
	require.True(t, ok)
	require.LessOrEqual(t, budget, int64(1<<20))

	// Shut down, the guards are no longer reported.
	require.NoError(t, e.shutdown(context.Background()))
	require.Empty(t, guardValues(t, tel, e, guard.MetricDisabled))
}

// A guard set to unlimited is reported switched off, and has no
// utilization. With max_total_bytes unlimited the free-disk watermark still
// gives a budget, and the budget gauge (the denominator of the near-budget
// alert) is still emitted.
func TestExporterReportsGuardsSwitchedOff(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	cfg := testConfig(t.TempDir())
	cfg.Limits.MaxBuffers = -1
	cfg.Limits.MaxTotalBytes = -1
	cfg.Limits.MaxBytesPerTenant = -1
	cfg.Retention.MaxAge = -1
	cfg.Retention.PerTenant = map[string]Age{"keep": -1, "short": Age(3600e9)}
	_, e := startExporter(t, cfg, tel)
	require.NoError(t, e.consumeLogs(context.Background(), makeLogs([]string{"a", "b"}, 5)))

	disabled := guardValues(t, tel, e, guard.MetricDisabled)
	require.Equal(t, map[string]float64{
		"limits.max_buffers": 1, "limits.max_total_bytes": 1, "limits.max_bytes_per_tenant": 1,
		"limits.min_free_disk_bytes": 0, "limits.max_open_files": 0, "retention.max_age": 1,
		"retention.per_tenant.keep": 1,
	}, disabled)
	util := guardValues(t, tel, e, guard.MetricUtilization)
	for _, g := range []string{"limits.max_buffers", "limits.max_total_bytes", "limits.max_bytes_per_tenant"} {
		require.NotContains(t, util, g)
	}
	require.Contains(t, util, "limits.min_free_disk_bytes")

	budget, ok := gaugeValue(t, tel, "otelcol_logx_tenantbuffer_budget_bytes")
	require.True(t, ok, "the watermark gives a budget: the gauge must be there")
	require.Positive(t, budget)
	require.Less(t, budget, int64(maxInt64))
}

// With every byte guard off there is no budget: no budget gauge, and the
// free-disk guard is reported switched off.
func TestExporterNoBudgetWithoutByteGuards(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	cfg := testConfig(t.TempDir())
	cfg.Limits.MaxTotalBytes = -1
	cfg.Limits.MinFreeDiskBytes = -1
	_, e := startExporter(t, cfg, tel)
	require.NoError(t, e.consumeLogs(context.Background(), makeLogs([]string{"a"}, 5)))
	_, ok := gaugeValue(t, tel, "otelcol_logx_tenantbuffer_budget_bytes")
	require.False(t, ok)
	disabled := guardValues(t, tel, e, guard.MetricDisabled)
	require.Equal(t, 1.0, disabled["limits.min_free_disk_bytes"], fmt.Sprint(disabled))
}
