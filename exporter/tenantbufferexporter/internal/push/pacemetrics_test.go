package push

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/metadata"
)

// The paced-wait metrics name at most top tenants, those that waited
// longest, one series per cause they waited for; the Retry-After outcomes
// are totals.
func TestPacedWaitMetricsBounded(t *testing.T) {
	tel := componenttest.NewTelemetry()
	defer func() { _ = tel.Shutdown(context.Background()) }()
	mt, err := metadata.NewTelemetryBuilder(tel.NewTelemetrySettings())
	require.NoError(t, err)
	p := New(Options{})
	p.mu.Lock()
	for i := range 50 {
		st := &tenantState{name: fmt.Sprintf("t%02d", i), heapIdx: -1}
		p.tenants[st.name] = st
		p.notePaceLocked(st, time.Duration(i)*time.Second)
		if i%2 == 1 {
			p.noteRetryAfterLocked(st, time.Second)
		}
	}
	p.mu.Unlock()
	p.RetryAfterHonoured.Add(25)
	p.RetryAfterCapped.Add(2)
	p.RetryAfterIgnored.Add(3)
	reg, err := mt.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		p.ObserveWaits(o, mt, 3)
		return nil
	}, mt.LogxTenantbufferPushPacedSeconds, mt.LogxTenantbufferPushPacedWaits, mt.LogxTenantbufferPushRetryAfter)
	require.NoError(t, err)
	defer func() { _ = reg.Unregister() }()

	secs, err := tel.GetMetric("otelcol_logx_tenantbuffer_push_paced_seconds")
	require.NoError(t, err)
	var series []string
	for _, dp := range secs.Data.(metricdata.Sum[float64]).DataPoints {
		tenant, _ := dp.Attributes.Value("tenant")
		cause, _ := dp.Attributes.Value("cause")
		series = append(series, fmt.Sprintf("%s/%s=%g", tenant.AsString(), cause.AsString(), dp.Value))
	}
	sort.Strings(series)
	// t49 waited 49+1 s, t48 48 s, t47 47+1 s: the top three.
	require.Equal(t, []string{"t47/pace=47", "t47/retry_after=1", "t48/pace=48", "t49/pace=49", "t49/retry_after=1"}, series)

	waits, err := tel.GetMetric("otelcol_logx_tenantbuffer_push_paced_waits")
	require.NoError(t, err)
	require.Len(t, waits.Data.(metricdata.Sum[int64]).DataPoints, 5)

	ra, err := tel.GetMetric("otelcol_logx_tenantbuffer_push_retry_after")
	require.NoError(t, err)
	got := map[string]int64{}
	for _, dp := range ra.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value(attribute.Key("outcome"))
		got[v.AsString()] = dp.Value
	}
	require.Equal(t, map[string]int64{RetryAfterHonoured: 25, RetryAfterCapped: 2, RetryAfterIgnored: 3}, got)
}
