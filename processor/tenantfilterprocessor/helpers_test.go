package tenantfilterprocessor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/processor/tenantfilterprocessor/internal/metadata"
)

// harness is a started processor reading a real job document file.
type harness struct {
	f        *tenantFilter
	p        processor.Logs
	sink     *consumertest.LogsSink
	tel      *componenttest.Telemetry
	logs     *observer.ObservedLogs
	jobsFile string
}

// startFilter starts the processor on cfg; an empty cfg.JobsFile is set
// to a file in a temporary directory holding doc (nil: no file at all).
func startFilter(t testing.TB, cfg *Config, doc []byte) *harness {
	t.Helper()
	if cfg.JobsFile == "" && cfg.JobsURL == "" {
		cfg.JobsFile = filepath.Join(t.TempDir(), "jobs.yaml")
	}
	if doc != nil {
		writeJobs(t, cfg.JobsFile, doc)
	}
	require.NoError(t, cfg.Validate())
	h := &harness{sink: &consumertest.LogsSink{}, tel: componenttest.NewTelemetry(), jobsFile: cfg.JobsFile}
	core, logs := observer.New(zapcore.InfoLevel)
	h.logs = logs
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = h.tel.NewTelemetrySettings()
	set.Logger = zap.New(core)
	var err error
	h.f, h.p, err = newLogsProcessor(context.Background(), set, cfg, h.sink)
	require.NoError(t, err)
	require.NoError(t, h.p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() {
		require.NoError(t, h.p.Shutdown(context.Background()))
		require.NoError(t, h.tel.Shutdown(context.Background()))
	})
	return h
}

func testConfig() *Config { return createDefaultConfig().(*Config) }

func writeJobs(t testing.TB, path string, doc []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, doc, 0o600))
}

// jobsDoc is a job document with an exact job per tenant and a job per
// prefix; destinations are files under /srv/logpush.
func jobsDoc(tenants []string, prefixes ...string) []byte {
	var b strings.Builder
	b.WriteString("jobs:\n")
	for i, tn := range tenants {
		fmt.Fprintf(&b, "  - {name: t%d, tenant: %q, destination: {type: file, path: /srv/logpush/t}}\n", i, tn)
	}
	for i, p := range prefixes {
		fmt.Fprintf(&b, "  - {name: p%d, prefix: %q, destination: {type: file, path: /srv/logpush/p}}\n", i, p)
	}
	return []byte(b.String())
}

func tenantNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// logsOf builds one resource with one record per tenant ("" leaves the
// attribute out); each record's body names its tenant and position.
func logsOf(tenants ...string) plog.Logs {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i, tn := range tenants {
		lr := lrs.AppendEmpty()
		lr.Body().SetStr(fmt.Sprintf("%s#%d", tn, i))
		if tn != "" {
			lr.Attributes().PutStr("logx.tenant", tn)
		}
	}
	return ld
}

// consume sends ld and returns the tenants of the records that came out
// ("" for records without one), in order.
func (h *harness) consume(t testing.TB, ld plog.Logs) []string {
	t.Helper()
	h.sink.Reset()
	require.NoError(t, h.p.ConsumeLogs(context.Background(), ld))
	var out []string
	for _, got := range h.sink.AllLogs() {
		testutil.EachLogRecord(got, func(res plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			tn, _ := logattr.StringOf("logx.tenant", lr.Attributes(), res.Resource().Attributes())
			out = append(out, tn)
		})
	}
	return out
}

// counts reads a metric's int64 data points by their reason attribute
// ("" when they have none); a metric not yet reported reads empty.
func (h *harness) counts(t testing.TB, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return out
	}
	var dps []metricdata.DataPoint[int64]
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		dps = d.DataPoints
	case metricdata.Gauge[int64]:
		dps = d.DataPoints
	default:
		t.Fatalf("%s: unexpected data %T", name, m.Data)
	}
	for _, dp := range dps {
		r, _ := dp.Attributes.Value("reason")
		out[r.AsString()] += dp.Value
	}
	return out
}

// gauge reads an attribute-less gauge.
func (h *harness) gauge(t testing.TB, name string) int64 {
	t.Helper()
	return h.counts(t, name)[""]
}
