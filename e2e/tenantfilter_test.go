package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// tenantfilterConfig is the tier-2 snippet of the README (memory_limiter, then
// tenantfilter on ${env:LOGX_JOBS_FILE}), fed by OTLP instead of cfjs1 and
// reloading every 20ms instead of every minute.
func tenantfilterConfig(addr string) string {
	return fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  tenantfilter:
    jobs_file: ${env:LOGX_JOBS_FILE:-/etc/otelcol-logx/jobs.yaml}
    reload_interval: 20ms
    max_removed_fraction: 0.1
    last_good_file: ${env:LOGX_STATE_DIR:-./.state}/log-a/tenantfilter-jobs.yaml
exporters:
  sink/out: {}
service:
  telemetry:
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: 8891
  pipelines:
    logs:
      receivers: [otlp]
      processors: [memory_limiter, tenantfilter]
      exporters: [sink/out]
`, addr)
}

// A whole collector with the snippet: admitted tenants and records without
// a tenant reach the exporter, others do not; a blank document pushed
// meanwhile changes nothing of that, and the collector's Prometheus
// endpoint shows the refusal under the names the alert rules use.
func TestEndToEndTier2Snippet(t *testing.T) {
	dir := t.TempDir()
	jobsFile := filepath.Join(dir, "jobs.yaml")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "log-a"), 0o700))
	require.NoError(t, os.WriteFile(jobsFile, []byte(`jobs:
- {name: acme, tenant: acme, destination: {type: http, url: "https://push.test/acme"}}
- {name: shops, prefix: shop-, destination: {type: file, path: /srv/logpush/shops}}
`), 0o600))
	t.Setenv("LOGX_JOBS_FILE", jobsFile)
	t.Setenv("LOGX_STATE_DIR", dir)
	addr := testutil.FreeTCPAddr(t)
	sink := &collectortest.Sink{}
	col := collectortest.Start(t, tenantfilterConfig(addr), collectortest.WithSinks(map[string]*collectortest.Sink{"out": sink}),
		collectortest.WithFreeSelfPorts())

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	client := plogotlp.NewGRPCClient(conn)
	send := func() []string {
		sink.Reset()
		ld := plog.NewLogs()
		lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for _, tn := range []string{"acme", "stranger", "shop-1", "", "acme-2"} {
			lr := lrs.AppendEmpty()
			if tn != "" {
				lr.Attributes().PutStr(logattr.Tenant, tn)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := client.Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
		require.NoError(t, err, "dropping on purpose must not fail the sender's call")
		var got []string
		for _, out := range sink.AllLogs() {
			lrs := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			for i := 0; i < lrs.Len(); i++ {
				v, _ := lrs.At(i).Attributes().Get(logattr.Tenant)
				got = append(got, v.Str())
			}
		}
		return got
	}
	assert.Equal(t, []string{"acme", "shop-1", ""}, send())
	kept, err := os.ReadFile(filepath.Join(dir, "log-a", "tenantfilter-jobs.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(kept), "shop-", "the last good document is kept")

	require.NoError(t, os.WriteFile(jobsFile, nil, 0o600))
	refused := regexp.MustCompile(`(?m)^otelcol_logx_tenantfilter_job_reloads_refused\{[^}]*reason="blank"[^}]*\} [1-9]`)
	lastReload := regexp.MustCompile(`(?m)^otelcol_logx_tenantfilter_last_reload_success 0$`)
	exposition := col.WaitMetrics(t, func(m string) bool { return refused.MatchString(m) && lastReload.MatchString(m) })
	assert.Equal(t, []string{"acme", "shop-1", ""}, send())

	for _, want := range []string{
		`(?m)^otelcol_logx_tenantfilter_jobs 2$`,
		`(?m)^otelcol_logx_tenantfilter_job_config_loaded 1$`,
		`(?m)^otelcol_logx_tenantfilter_records_dropped\{reason="no_job"\} 2$`,
		`(?m)^otelcol_processor_incoming_items\{[^}]*processor="tenantfilter"[^}]*\} 5$`,
		`(?m)^otelcol_processor_outgoing_items\{[^}]*processor="tenantfilter"[^}]*\} 3$`,
		`(?m)^otelcol_logx_guard_disabled\{[^}]*component="tenantfilter"[^}]*guard="max_removed_fraction"[^}]*\} 0$`,
	} {
		assert.Regexp(t, want, exposition)
	}
	// fed = delivered + counted drops, across the refusal.
	afterBlank := regexp.MustCompile(`(?m)^otelcol_logx_tenantfilter_records_dropped\{reason="no_job"\} 4$`)
	outgoing := regexp.MustCompile(`(?m)^otelcol_processor_outgoing_items\{[^}]*processor="tenantfilter"[^}]*\} 6$`)
	col.WaitMetrics(t, func(m string) bool { return afterBlank.MatchString(m) && outgoing.MatchString(m) })
	require.NoError(t, col.Shutdown())
}
