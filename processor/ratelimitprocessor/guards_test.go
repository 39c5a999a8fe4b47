package ratelimitprocessor

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

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
	assert.Equal(t, map[string]float64{"max_keys": 0, "dry_run": 1}, testutil.GaugeByAttribute(t, tt, guard.MetricDisabled, "guard"),
		"dry_run drops nothing: a limit switched off")
	assert.Equal(t, map[string]float64{"max_keys": 0.25}, testutil.GaugeByAttribute(t, tt, guard.MetricUtilization, "guard"))
}
