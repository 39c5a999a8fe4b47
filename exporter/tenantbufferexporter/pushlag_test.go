package tenantbufferexporter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// gaugeByTenant returns an int64 gauge's points by their tenant attribute.
func gaugeByTenant(t *testing.T, tel *componenttest.Telemetry, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, err := tel.GetMetric(name)
	if err != nil {
		return out
	}
	for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
		v, _ := dp.Attributes.Value(attribute.Key("tenant"))
		out[v.AsString()] = dp.Value
	}
	return out
}

// The push lag in records is published per tenant for the largest
// telemetry.top_tenants tenants only, is exact after appends and after
// pushes, and is the same after a restart.
func TestPushLagRecordsMetric(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	jobsFile := filepath.Join(t.TempDir(), "jobs.yaml")
	// Batches of 10 records; a partial batch waits an hour: what is left
	// after the full batches stays unpushed for the test's lifetime.
	doc := fmt.Sprintf(`jobs: [{name: all, prefix: "t-", destination: {type: file, path: %s, fsync: false}, batch: {max_records: 10, max_interval: 1h}}]`, out)
	if err := os.WriteFile(jobsFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir)
	cfg.Consumers = nil
	cfg.Push.JobsFile = jobsFile
	cfg.Push.Destinations.FileRoot = out
	cfg.Telemetry.TopTenants = 2
	start := func() (*tenantBufferExporter, *componenttest.Telemetry) {
		tel := componenttest.NewTelemetry()
		t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
		_, e := startExporter(t, cfg, tel)
		return e, tel
	}
	lag := func(e *tenantBufferExporter, tel *componenttest.Telemetry) map[string]int64 {
		e.Store().Sweep() // the top-N list is the sweeper's
		return gaugeByTenant(t, tel, "otelcol_logx_tenantbuffer_push_lag_records")
	}
	e, tel := start()
	// Three tenants; "t-small" is the smallest and falls outside top 2.
	for tenant, n := range map[string]int{"t-big": 47, "t-mid": 23, "t-small": 3} {
		if err := e.consumeLogs(context.Background(), makeLogs([]string{tenant}, n)); err != nil {
			t.Fatal(err)
		}
	}
	// Full batches go at once: 40 of big, 20 of mid; the rest waits.
	testutil.WaitFor(t, 15*time.Second, "the full batches", func() bool { return e.push.pusher.Records.Load() == 60 })
	got := lag(e, tel)
	if len(got) != 2 || got["t-big"] != 7 || got["t-mid"] != 3 {
		t.Fatalf("lag in records %v, want t-big 7, t-mid 3 (top 2 only)", got)
	}
	// More records: the lag grows by exactly as many.
	if err := e.consumeLogs(context.Background(), makeLogs([]string{"t-mid"}, 2)); err != nil {
		t.Fatal(err)
	}
	if got := lag(e, tel); got["t-mid"] != 5 {
		t.Fatalf("mid lag %d after 2 more records, want 5", got["t-mid"])
	}
	bytesLag := gaugeByTenant(t, tel, "otelcol_logx_tenantbuffer_push_lag_bytes")
	if bytesLag["t-big"] <= 0 || bytesLag["t-mid"] <= 0 {
		t.Fatalf("lag in bytes %v", bytesLag)
	}
	if err := e.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	// After a restart the figures are the same (nothing new is due).
	e2, tel2 := start()
	if got := lag(e2, tel2); len(got) != 2 || got["t-big"] != 7 || got["t-mid"] != 5 {
		t.Fatalf("lag in records after restart %v, want big 7, mid 5", got)
	}
	if got := gaugeByTenant(t, tel2, "otelcol_logx_tenantbuffer_push_lag_bytes"); got["t-big"] != bytesLag["t-big"] {
		t.Fatalf("lag in bytes after restart %v, before %v", got, bytesLag)
	}
	// Five more for mid make a full batch of 10: pushed, mid's lag is 0.
	if err := e2.consumeLogs(context.Background(), makeLogs([]string{"t-mid"}, 5)); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 15*time.Second, "mid's full batch", func() bool { return e2.push.pusher.Records.Load() == 10 })
	if got := lag(e2, tel2); got["t-mid"] != 0 || got["t-big"] != 7 {
		t.Fatalf("lag in records after the push %v, want big 7, mid 0", got)
	}
}
