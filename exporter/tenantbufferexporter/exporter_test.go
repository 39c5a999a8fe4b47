package tenantbufferexporter

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/otlprecord"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// startExporter builds the exporter's core (what the factory wraps) and
// starts it, keeping a handle on its store.
func startExporter(t testing.TB, cfg *Config, tel *componenttest.Telemetry) (exporter.Logs, *tenantBufferExporter) {
	t.Helper()
	set := exportertest.NewNopSettings(metadata.Type)
	if tel != nil {
		set.TelemetrySettings = tel.NewTelemetrySettings()
	}
	inner, err := newTenantBufferExporter(cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	if err := inner.start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inner.shutdown(context.Background()) })
	return nil, inner
}

func testConfig(dir string) *Config {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Directory = dir
	cfg.Consumers = []string{"check"}
	return cfg
}

// makeLogs builds n records per tenant; a "" tenant leaves the attribute out.
func makeLogs(tenants []string, n int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "h1")
	sl := rl.ScopeLogs().AppendEmpty()
	for _, tn := range tenants {
		for i := range n {
			lr := sl.LogRecords().AppendEmpty()
			lr.Body().SetStr(fmt.Sprintf("%s-%d", tn, i))
			if tn != "" {
				lr.Attributes().PutStr(logattr.Tenant, tn)
			}
		}
	}
	return ld
}

func readBodies(t testing.TB, st *buffers.Store, tenant string) []string {
	t.Helper()
	var out []string
	for {
		recs, err := st.Read(tenant, "check", 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			ld, err := otlprecord.DecodeProto(r.Payload)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
		}
		if err := st.Commit(tenant, "check", recs[len(recs)-1].Next); err != nil {
			t.Fatal(err)
		}
	}
}

func sumCounter(t *testing.T, tel *componenttest.Telemetry, name string, reason string) int64 {
	t.Helper()
	return testutil.SumInt64Reason(t, tel, name, reason)
}

func TestExporterDemultiplexesByTenant(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	cfg := testConfig(t.TempDir())
	_, e := startExporter(t, cfg, tel)
	ld := makeLogs([]string{"acme", "globex", "", "acme"}, 3)
	// A tenant key set only on the resource counts too.
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(logattr.Tenant, "initech")
	rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("from-resource")
	if err := e.consumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	st := e.Store()
	if got := readBodies(t, st, "acme"); len(got) != 6 || got[0] != "acme-0" || got[5] != "acme-2" {
		t.Fatalf("acme: %v", got)
	}
	if got := readBodies(t, st, "globex"); len(got) != 3 {
		t.Fatalf("globex: %v", got)
	}
	if got := readBodies(t, st, "initech"); len(got) != 1 || got[0] != "from-resource" {
		t.Fatalf("initech: %v", got)
	}
	if n := sumCounter(t, tel, "otelcol_logx_tenantbuffer_records_refused", "missing_tenant"); n != 3 {
		t.Fatalf("missing tenant refused %d, want 3", n)
	}
	if n := sumCounter(t, tel, "otelcol_logx_tenantbuffer_records_accepted", ""); n != 10 {
		t.Fatalf("accepted %d, want 10", n)
	}
	m, err := tel.GetMetric("otelcol_logx_tenantbuffer_buffers")
	if err != nil || m.Data.(metricdata.Gauge[int64]).DataPoints[0].Value != 3 {
		t.Fatalf("buffers gauge: %+v %v", m, err)
	}
}

func TestExporterGuardsCounted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	cfg := testConfig(t.TempDir())
	cfg.Limits.MaxBuffers = 2
	cfg.Tenant.MaxLength = 10
	_, e := startExporter(t, cfg, tel)
	if err := e.consumeLogs(context.Background(), makeLogs([]string{"a", "b", "c", "this-is-too-long"}, 2)); err != nil {
		t.Fatal(err)
	}
	if n := sumCounter(t, tel, "otelcol_logx_tenantbuffer_records_refused", "max_buffers"); n != 2 {
		t.Fatalf("max_buffers refused %d", n)
	}
	if n := sumCounter(t, tel, "otelcol_logx_tenantbuffer_records_refused", "tenant_too_long"); n != 2 {
		t.Fatalf("tenant_too_long refused %d", n)
	}
	if got := readBodies(t, e.Store(), "a"); len(got) != 2 {
		t.Fatalf("admitted tenant lost records: %v", got)
	}
}

func TestExporterDefaultTenant(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Tenant.Default = "nobody"
	_, e := startExporter(t, cfg, nil)
	if err := e.consumeLogs(context.Background(), makeLogs([]string{""}, 4)); err != nil {
		t.Fatal(err)
	}
	if got := readBodies(t, e.Store(), "nobody"); len(got) != 4 {
		t.Fatalf("default tenant: %v", got)
	}
}

func TestExporterThroughFactoryAndRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	set := exportertest.NewNopSettings(metadata.Type)
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	if err := exp.ConsumeLogs(context.Background(), makeLogs([]string{"acme"}, 5)); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, e := startExporter(t, cfg, nil)
	if got := readBodies(t, e.Store(), "acme"); len(got) != 5 {
		t.Fatalf("after restart: %v", got)
	}
}
