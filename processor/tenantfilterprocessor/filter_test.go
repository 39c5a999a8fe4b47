package tenantfilterprocessor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/processor/tenantfilterprocessor/internal/metadata"
)

// Only tenants with a job pass: exact tenants and prefixes, the tenant
// read from the record or else from the resource; records without a
// tenant pass by default; every drop is counted as no_job.
func TestAdmitsOnlyTenantsWithJobs(t *testing.T) {
	h := startFilter(t, testConfig(), jobsDoc([]string{"acme", "globex"}, "shop-"))

	got := h.consume(t, logsOf("acme", "stranger", "shop-7", "shop", "", "globex", "acme2"))
	assert.Equal(t, []string{"acme", "shop-7", "", "globex"}, got)

	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("logx.tenant", "globex")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	lrs.AppendEmpty()                                         // the resource's tenant: globex
	lrs.AppendEmpty().Attributes().PutStr("logx.tenant", "x") // the record's wins: x, no job
	lrs.AppendEmpty().Attributes().PutInt("logx.tenant", 42)  // not a string: "42", no job
	assert.Equal(t, []string{"globex"}, h.consume(t, ld))

	assert.Equal(t, map[string]int64{"no_job": 5}, h.counts(t, metadata.MetricRecordsDropped))
	assert.EqualValues(t, 3, h.gauge(t, metadata.MetricJobs))
	assert.EqualValues(t, 1, h.gauge(t, metadata.MetricLastReloadSuccess))
	assert.EqualValues(t, 1, h.gauge(t, metadata.MetricJobConfigLoaded))
}

// A batch left with nothing is not sent on, and empty resources and
// scopes are not sent on either.
func TestBatchWithoutAdmittedTenantsGoesNowhere(t *testing.T) {
	h := startFilter(t, testConfig(), jobsDoc([]string{"acme"}))
	ld := logsOf("a", "b")
	logsOf("acme").ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
	logsOf("c").ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
	assert.Equal(t, []string{"acme"}, h.consume(t, ld))
	require.Len(t, h.sink.AllLogs(), 1)
	assert.Equal(t, 1, h.sink.AllLogs()[0].ResourceLogs().Len())

	assert.Empty(t, h.consume(t, logsOf("a", "b")))
	assert.Empty(t, h.sink.AllLogs(), "an emptied batch was sent on")
	assert.Equal(t, map[string]int64{"no_job": 5}, h.counts(t, metadata.MetricRecordsDropped))
}

// tenant.missing: drop removes records without a tenant, counted apart.
func TestMissingTenantDrop(t *testing.T) {
	cfg := testConfig()
	cfg.Tenant = TenantConfig{Attribute: "customer", Missing: missingDrop}
	h := startFilter(t, cfg, jobsDoc([]string{"acme"}))
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	lrs.AppendEmpty().Attributes().PutStr("customer", "acme")
	lrs.AppendEmpty().Attributes().PutStr("customer", "")
	lrs.AppendEmpty().Attributes().PutStr("logx.tenant", "acme") // not the configured attribute
	require.NoError(t, h.p.ConsumeLogs(context.Background(), ld))
	assert.Equal(t, 1, h.sink.LogRecordCount())
	assert.Equal(t, map[string]int64{"missing_tenant": 2}, h.counts(t, metadata.MetricRecordsDropped))
}

// With no good document ever loaded, no tenant is admitted (never all of
// them): the drops say why, the gauge shows it and the log says so.
// Records without a tenant still follow tenant.missing.
func TestFailClosedWithoutAnyGoodDocument(t *testing.T) {
	for name, doc := range map[string][]byte{"missing": nil, "blank": []byte("\n"), "empty list": []byte("jobs: []\n"), "garbage": []byte("jobs: [")} {
		t.Run(name, func(t *testing.T) {
			h := startFilter(t, testConfig(), doc)
			assert.Equal(t, []string{""}, h.consume(t, logsOf("acme", "", "globex")))
			assert.Equal(t, map[string]int64{"no_job_config": 2}, h.counts(t, metadata.MetricRecordsDropped))
			assert.EqualValues(t, 0, h.gauge(t, metadata.MetricJobConfigLoaded))
			assert.EqualValues(t, 0, h.gauge(t, metadata.MetricJobs))
			assert.EqualValues(t, 0, h.gauge(t, metadata.MetricLastReloadSuccess))
			assert.Len(t, h.counts(t, metadata.MetricJobReloadsRefused), 1)
			assert.Equal(t, 1, h.logs.FilterMessageSnippet("none was ever loaded: no tenant's records pass").Len())

			// The first good document admits its tenants.
			writeJobs(t, h.jobsFile, jobsDoc([]string{"acme"}))
			require.NoError(t, h.f.holder.Reload(context.Background()))
			assert.Equal(t, []string{"acme"}, h.consume(t, logsOf("acme", "globex")))
			assert.EqualValues(t, 1, h.gauge(t, metadata.MetricJobConfigLoaded))
		})
	}
}

// Every kind of bad document is refused and counted by reason, the last
// good job set stays in force (no tenant lost, none added), and the gauge
// shows the last reload failed until a good one is accepted.
func TestBadDocumentKeepsLastGood(t *testing.T) {
	tenants := tenantNames("t", 20)
	h := startFilter(t, testConfig(), jobsDoc(tenants))
	admitted := func() []string { return h.consume(t, logsOf("t0", "t19", "newcomer")) }
	require.Equal(t, []string{"t0", "t19"}, admitted())

	for _, bad := range []struct {
		reason string
		apply  func()
	}{
		{"blank", func() { writeJobs(t, h.jobsFile, nil) }},
		{"blank", func() { writeJobs(t, h.jobsFile, []byte("jobs: []")) }},
		{"parse", func() { writeJobs(t, h.jobsFile, []byte("jobs: [")) }},
		{"invalid", func() { writeJobs(t, h.jobsFile, []byte("jobs: [{name: a, tenant: t0}]")) }},
		{"removes_too_many", func() { writeJobs(t, h.jobsFile, jobsDoc(append(tenants[3:], "newcomer"))) }},
		{"redirects_too_many", func() {
			writeJobs(t, h.jobsFile, []byte(strings.ReplaceAll(string(jobsDoc(tenants)), "/srv/logpush/t", "/srv/elsewhere")))
		}},
		{"fetch", func() { require.NoError(t, os.Remove(h.jobsFile)) }},
		{"fetch", func() { require.NoError(t, os.Mkdir(h.jobsFile, 0o700)) }}, // unreadable: a directory
	} {
		bad.apply()
		err := h.f.holder.Reload(context.Background())
		require.Error(t, err, bad.reason)
		assert.Equal(t, []string{"t0", "t19"}, admitted(), "after a %s document", bad.reason)
		assert.EqualValues(t, 0, h.gauge(t, metadata.MetricLastReloadSuccess))
		assert.EqualValues(t, 20, h.gauge(t, metadata.MetricJobs))
	}
	require.NoError(t, os.Remove(h.jobsFile))
	assert.Equal(t, map[string]int64{"blank": 2, "parse": 1, "invalid": 1, "removes_too_many": 1, "redirects_too_many": 1, "fetch": 2},
		h.counts(t, metadata.MetricJobReloadsRefused))
	assert.Equal(t, 8, h.logs.FilterMessageSnippet("the last good job set stays in force").Len())

	// Two of 20 removed (10%) and one added: accepted.
	writeJobs(t, h.jobsFile, jobsDoc(append(tenants[2:], "newcomer")))
	require.NoError(t, h.f.holder.Reload(context.Background()))
	assert.Equal(t, []string{"t19", "newcomer"}, admitted())
	assert.EqualValues(t, 1, h.gauge(t, metadata.MetricLastReloadSuccess))
	assert.EqualValues(t, 19, h.gauge(t, metadata.MetricJobs))
}

// The document is read again every reload_interval without help.
func TestReloadsOnInterval(t *testing.T) {
	cfg := testConfig()
	cfg.ReloadInterval = 10 * time.Millisecond
	h := startFilter(t, cfg, jobsDoc([]string{"acme"}))
	writeJobs(t, h.jobsFile, jobsDoc([]string{"acme", "globex"}))
	require.Eventually(t, func() bool { return h.f.holder.Table().Len() == 2 }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, []string{"acme", "globex"}, h.consume(t, logsOf("acme", "globex")))
}

// The document the exporter reads passes here even with destinations the
// exporter's own rules govern (a file outside any root, plain http): the
// processor delivers nowhere, and being stricter than the exporter would
// drop tenants it still pushes.
func TestDestinationRulesAreTheExporters(t *testing.T) {
	h := startFilter(t, testConfig(), []byte(`jobs:
- {name: a, tenant: acme, destination: {type: file, path: /anywhere}}
- {name: b, prefix: lab-, destination: {type: http, url: "http://lab.test/in"}}
`))
	assert.Equal(t, []string{"acme", "lab-1"}, h.consume(t, logsOf("acme", "lab-1", "x")))
}

// With last_good_file, a restart while the document is blank keeps the
// tenants the last good document admitted, and the guard still applies.
func TestLastGoodFileAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.JobsFile, cfg.LastGoodFile = filepath.Join(dir, "jobs.yaml"), filepath.Join(dir, "last-good.yaml")
	first := startFilter(t, cfg, jobsDoc([]string{"acme", "globex"}))
	require.NoError(t, first.p.Shutdown(context.Background()))

	second := startFilter(t, cfg, []byte(""))
	assert.Equal(t, []string{"acme"}, second.consume(t, logsOf("acme", "other")))
	assert.Equal(t, map[string]int64{"blank": 1}, second.counts(t, metadata.MetricJobReloadsRefused))
	assert.EqualValues(t, 1, second.gauge(t, metadata.MetricJobConfigLoaded))

	writeJobs(t, cfg.JobsFile, jobsDoc([]string{"other"}))
	require.Error(t, second.f.holder.Reload(context.Background()), "a document replacing every tenant was accepted after a restart")
}

// The guard is reported through internal/guard: on by default, visibly
// off with max_removed_fraction 1, and no longer reported after shutdown.
func TestGuardIsVisible(t *testing.T) {
	for fraction, disabled := range map[float64]int64{0.1: 0, 1: 1} {
		cfg := testConfig()
		cfg.MaxRemovedFraction = fraction
		h := startFilter(t, cfg, jobsDoc([]string{"acme"}))
		m, err := h.tel.GetMetric(guard.MetricDisabled)
		require.NoError(t, err)
		dps := m.Data.(metricdata.Gauge[int64]).DataPoints
		require.Len(t, dps, 1)
		g, _ := dps[0].Attributes.Value("guard")
		c, _ := dps[0].Attributes.Value("component")
		assert.Equal(t, "max_removed_fraction", g.AsString())
		assert.Equal(t, "tenantfilter", c.AsString())
		assert.Equal(t, disabled, dps[0].Value, "max_removed_fraction %v", fraction)

		require.NoError(t, h.p.Shutdown(context.Background()))
		m, err = h.tel.GetMetric(guard.MetricDisabled)
		if err == nil {
			assert.Empty(t, m.Data.(metricdata.Gauge[int64]).DataPoints, "guard still reported after shutdown")
		}
	}
}
