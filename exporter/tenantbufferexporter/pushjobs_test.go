package tenantbufferexporter

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
)

// httpsJobs is a document of n jobs, tenant tenantOf(i) pushed to
// https://127.0.0.1:1/<dest(i)> (nothing listens: these tests look at the
// table, not at deliveries, and send no records).
func httpsJobs(n int, tenantOf func(int) string, dest func(int) string) string {
	var b strings.Builder
	b.WriteString("jobs:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: j%d, tenant: %s, destination: {type: http, url: \"https://127.0.0.1:1/%s\"}}\n", i, tenantOf(i), dest(i))
	}
	return b.String()
}

func tenantN(i int) string { return fmt.Sprint("t", i) }
func destN(i int) string   { return fmt.Sprint("in", i) }

// The shrink guard holds across a restart: the last good table is in
// force before the document is fetched at start, so a document that
// shrank while the collector was down is refused like one fetched later;
// and it compares what the jobs cover, so a document that keeps the job
// names but changes their tenants or destinations is refused too (counted,
// with the reason).
func TestPushJobsRestartKeepsShrinkGuard(t *testing.T) {
	dir := t.TempDir()
	jobsFile := filepath.Join(t.TempDir(), "jobs.yaml")
	write := func(doc string) { require.NoError(t, os.WriteFile(jobsFile, []byte(doc), 0o600)) }
	cfg := testConfig(dir)
	cfg.Consumers = nil
	cfg.Push.JobsFile = jobsFile
	cfg.Push.ReloadInterval = time.Hour // only the reload at start
	type run struct {
		e   *tenantBufferExporter
		tel *componenttest.Telemetry
	}
	start := func() run {
		tel := componenttest.NewTelemetry()
		t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
		_, e := startExporter(t, cfg, tel)
		return run{e, tel}
	}
	stop := func(r run) { require.NoError(t, r.e.shutdown(context.Background())) }
	covered := func(r run) (tenants []string) {
		for _, j := range r.e.push.holder.Table().Jobs() {
			tenants = append(tenants, j.Tenant+"->"+j.Destination.URL)
		}
		return tenants
	}

	good := httpsJobs(20, tenantN, destN)
	write(good)
	r := start()
	require.Equal(t, 20, r.e.push.holder.Table().Len())
	want := covered(r)
	stop(r)

	for _, c := range []struct{ name, doc, reason string }{
		{"shrunk to 5 jobs", httpsJobs(5, tenantN, destN), "removes_too_many"},
		{"same names, other tenants", httpsJobs(20, func(i int) string { return fmt.Sprint("other", i) }, destN), "removes_too_many"},
		{"same names and tenants, other destinations", httpsJobs(20, tenantN, func(int) string { return "elsewhere" }), "redirects_too_many"},
	} {
		write(c.doc)
		r := start()
		require.Equal(t, want, covered(r), "%s: the last good table stays in force", c.name)
		require.Equal(t, int64(1), sumCounter(t, r.tel, "otelcol_logx_tenantbuffer_job_reloads_refused", c.reason), c.name)
		stop(r)
	}

	// A document within the guard is taken at start, and kept as the
	// last good one.
	write(httpsJobs(19, tenantN, destN))
	r = start()
	require.Equal(t, 19, r.e.push.holder.Table().Len())
	require.Zero(t, sumCounter(t, r.tel, "otelcol_logx_tenantbuffer_job_reloads_refused", ""))
	stop(r)
	kept, err := os.ReadFile(filepath.Join(dir, lastGoodFile))
	require.NoError(t, err)
	require.Equal(t, httpsJobs(19, tenantN, destN), string(kept))
}

// tlsServer is an https server on loopback and a file with the CA that
// signed its certificate.
func tlsServer(t *testing.T, h http.Handler) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	return srv, ca
}

// gaugePoints returns an int64 gauge's points keyed by their attributes
// ("k=v,k=v", sorted by key).
func gaugePoints(t *testing.T, tel *componenttest.Telemetry, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, err := tel.GetMetric(name)
	if err != nil {
		return out
	}
	for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
		var kv []string
		for _, a := range dp.Attributes.ToSlice() {
			kv = append(kv, string(a.Key)+"="+a.Value.String())
		}
		out[strings.Join(kv, ",")] = dp.Value
	}
	return out
}

// A tenant whose destination answers 401 beside a healthy one, through
// the whole exporter: the healthy tenant's records are delivered; the 401
// tenant's stay buffered, its breaker open, and the state metrics say so.
// Push's guards are reported through internal/guard.
func TestPushStateMetricsAndGuards(t *testing.T) {
	var delivered, unauthorized atomic.Int64
	srv, ca := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/expired" {
			unauthorized.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Body.Read(buf)
			delivered.Add(int64(strings.Count(string(buf[:n]), "\n")))
			if err != nil {
				break
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	jobsFile := filepath.Join(t.TempDir(), "jobs.yaml")
	doc := fmt.Sprintf(`jobs:
- {name: ok, tenant: ok, destination: {type: http, url: %q, tls: {ca_file: %q}}, batch: {max_records: 10, max_interval: 20ms}}
- {name: expired, tenant: expired, destination: {type: http, url: %q, tls: {ca_file: %q}}, batch: {max_records: 10, max_interval: 20ms}}
`, srv.URL+"/ok", ca, srv.URL+"/expired", ca)
	require.NoError(t, os.WriteFile(jobsFile, []byte(doc), 0o600))
	cfg := testConfig(t.TempDir())
	cfg.Consumers = nil
	cfg.Push.JobsFile = jobsFile
	cfg.Push.BreakerOpen = time.Hour // one try, then the breaker holds for the test
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	_, e := startExporter(t, cfg, tel)

	require.NoError(t, e.consumeLogs(context.Background(), makeLogs([]string{"ok", "expired"}, 30)))
	require.Eventually(t, func() bool {
		return delivered.Load() == 30 && gaugePoints(t, tel, "otelcol_logx_tenantbuffer_push_tenant_state")["state=breaker_open,tenant=expired"] == 1
	}, 15*time.Second, 10*time.Millisecond)
	require.Equal(t, int64(1), unauthorized.Load(), "a 401 opens the breaker at once")
	states := gaugePoints(t, tel, "otelcol_logx_tenantbuffer_push_tenants")
	require.Equal(t, map[string]int64{"state=ok": 1, "state=retrying": 0, "state=breaker_open": 1}, states)
	require.Len(t, gaugePoints(t, tel, "otelcol_logx_tenantbuffer_push_tenant_state"), 1, "only tenants in trouble")
	lag, err := e.push.pusher.LagOf("expired")
	require.NoError(t, err)
	require.Equal(t, int64(30), lag.Records, "nothing of the 401 tenant is lost or parked")
	require.Equal(t, map[string]int64{"": 0}, gaugePoints(t, tel, "otelcol_logx_tenantbuffer_push_dead_letter_bytes"))

	// Push's guards, on by default (file_root: as configured).
	_, dests := cfg.pushSafety()
	disabled := map[string]int64{}
	m, err := tel.GetMetric(guard.MetricDisabled)
	require.NoError(t, err)
	for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
		g, _ := dp.Attributes.Value(attribute.Key("guard"))
		c, _ := dp.Attributes.Value(attribute.Key("component"))
		if strings.HasPrefix(g.AsString(), "push.") {
			require.Equal(t, e.id.String(), c.AsString(), "push's guards under the exporter's own id")
			disabled[g.AsString()] = dp.Value
		}
	}
	rootOff := int64(0)
	if dests.FileRoot == "/" {
		rootOff = 1
	}
	require.Equal(t, map[string]int64{
		"push.max_removed_fraction": 0, "push.dead_letter.max_bytes": 0, "push.dead_letter.max_bytes_per_tenant": 0,
		"push.dead_letter.max_age": 0, "push.destinations.file_root": rootOff, "push.destinations.allow_insecure_jobs": 0,
	}, disabled)
	m, err = tel.GetMetric(guard.MetricUtilization)
	require.NoError(t, err)
	util := map[string]float64{}
	for _, dp := range m.Data.(metricdata.Gauge[float64]).DataPoints {
		g, _ := dp.Attributes.Value(attribute.Key("guard"))
		util[g.AsString()] = dp.Value
	}
	require.Contains(t, util, "push.dead_letter.max_bytes")
	require.Zero(t, util["push.dead_letter.max_bytes"])

	// Unregistered at shutdown.
	require.NoError(t, e.shutdown(context.Background()))
	m, err = tel.GetMetric(guard.MetricDisabled)
	if err == nil {
		for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
			g, _ := dp.Attributes.Value(attribute.Key("guard"))
			require.False(t, strings.HasPrefix(g.AsString(), "push."), "guard %s still reported after shutdown", g.AsString())
		}
	}
}

// Through the exporter, a job document that asks for what the exporter's
// rules forbid is refused at start (counted as invalid) and no job runs:
// plain http, unverified TLS, a negative timeout, a file destination in
// the exporter's own directory.
func TestPushJobsForbiddenDocumentsRefused(t *testing.T) {
	for name, job := range map[string]string{
		"http":            `{type: http, url: "http://127.0.0.1:1/in"}`,
		"skip verify":     `{type: http, url: "https://127.0.0.1:1/in", tls: {insecure_skip_verify: true}}`,
		"no timeout":      `{type: http, url: "https://127.0.0.1:1/in", timeout: -1s}`,
		"own directory":   `{type: file, path: DIR/x}`,
		"own directory 2": `{type: file, path: DIR/deadletter}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			jobsFile := filepath.Join(t.TempDir(), "jobs.yaml")
			doc := "jobs: [{name: a, tenant: a, destination: " + strings.ReplaceAll(job, "DIR", dir) + "}]"
			require.NoError(t, os.WriteFile(jobsFile, []byte(doc), 0o600))
			cfg := testConfig(dir)
			cfg.Consumers = nil
			cfg.Push.JobsFile = jobsFile
			tel := componenttest.NewTelemetry()
			t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
			_, e := startExporter(t, cfg, tel)
			require.Nil(t, e.push.holder.Table())
			require.Equal(t, int64(1), sumCounter(t, tel, "otelcol_logx_tenantbuffer_job_reloads_refused", "invalid"))
		})
	}
}

// The dead-letter area counts in the store's total: what it holds is the
// store's ExternalBytes (so the budget and the free-disk watermark see
// it), and it stays under its cap however much a rejecting destination
// sends there, while a healthy tenant beside it delivers everything.
func TestDeadLettersCountInStoreTotal(t *testing.T) {
	var delivered atomic.Int64
	srv, ca := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rejected" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Body.Read(buf)
			delivered.Add(int64(strings.Count(string(buf[:n]), "\n")))
			if err != nil {
				break
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	jobsFile := filepath.Join(t.TempDir(), "jobs.yaml")
	doc := fmt.Sprintf(`jobs:
- {name: healthy, tenant: healthy, destination: {type: http, url: %q, tls: {ca_file: %q}}, batch: {max_records: 10, max_interval: 20ms}}
- {name: rejected, tenant: rejected, destination: {type: http, url: %q, tls: {ca_file: %q}}, batch: {max_records: 10, max_interval: 20ms}}
`, srv.URL+"/healthy", ca, srv.URL+"/rejected", ca)
	require.NoError(t, os.WriteFile(jobsFile, []byte(doc), 0o600))
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Consumers = nil
	cfg.Push.JobsFile = jobsFile
	const deadCap = 8 << 10
	cfg.Push.DeadLetter.MaxBytes, cfg.Push.DeadLetter.MaxBytesPerTenant = deadCap, deadCap
	_, e := startExporter(t, cfg, nil)

	require.NoError(t, e.consumeLogs(context.Background(), makeLogs([]string{"rejected"}, 300)))
	require.NoError(t, e.consumeLogs(context.Background(), makeLogs([]string{"healthy"}, 50)))
	require.Eventually(t, func() bool {
		return delivered.Load() == 50 && e.push.pusher.Parked.Load() == 300
	}, 15*time.Second, 10*time.Millisecond)

	var onDisk int64
	require.NoError(t, filepath.Walk(filepath.Join(dir, deadLetterDir), func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			onDisk += info.Size()
		}
		return err
	}))
	st := e.Store()
	st.Sweep()
	require.Positive(t, onDisk)
	require.LessOrEqual(t, onDisk, int64(deadCap))
	require.Equal(t, onDisk, e.push.deadLetterBytes())
	require.Equal(t, onDisk, st.Stats().ExternalBytes, "the store's total counts the dead letters")
}
