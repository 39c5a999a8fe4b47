package ingest

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
)

// TestAppNameAgreesWithParser: the app name read before parsing is the
// syslog.appname the parser then writes, for the header forms it knows.
func TestAppNameAgreesWithParser(t *testing.T) {
	lines := []string{
		"<30>Nov 22 04:00:00 nginx[4242]: GET /",
		"<30>Nov 22 04:00:00 host1 sshd[1]: Accepted",
		"<13>Nov  2 04:00:00 cron: job",
		"<13>2026-11-22T04:00:00.123Z app[9]: rfc3339 stamp",
		"<13>app: no stamp",
		"<165>1 2026-11-22T04:00:00Z host web 42 ID1 - msg",
		"<165>1 2026-11-22T04:00:00Z host - 42 ID1 - nil app",
		"<13>Nov 22 04:00:00 no tag here",
		"no pri at all",
		"<13>Nov 22 04:00:00 [bracket first",
	}
	for _, format := range []syslog.Format{syslog.FormatAuto, syslog.FormatRFC3164, syslog.FormatRFC5424, syslog.FormatRaw} {
		for _, line := range lines {
			p := syslog.Parser{Format: format}
			lr := plog.NewLogRecord()
			_ = p.Parse(line, lr)
			want := ""
			if v, ok := lr.Attributes().Get(logattr.SyslogAppName); ok {
				want = v.Str()
			}
			assert.Equal(t, want, string(appName([]byte(line), format)), "%s: %q", format, line)
		}
	}
}

// TestLinesKeysBatchesByService: with an Identity, a batch holds one
// service's lines (a change of service flushes it) and carries it as Key:
// the trusted identity when there is one, else the app name, else the
// fallback; the records' logx.service is the same. Without an Identity
// batches have no key, as before.
func TestLinesKeysBatchesByService(t *testing.T) {
	input := []string{
		"<13>Nov 22 04:00:00 a[1]: 1", "<13>Nov 22 04:00:00 a[1]: 2",
		"<13>Nov 22 04:00:00 b: 3", "no header", "<13>Nov 22 04:00:00 a: 4",
	}
	for _, tc := range []struct {
		name              string
		trusted, fallback string
		noIdentity        bool
		keys              []string
	}{
		{name: "app names", fallback: "dflt", keys: []string{"a", "b", "dflt", "a"}},
		{name: "trusted", trusted: "unit.service", fallback: "dflt", keys: []string{"unit.service"}},
		{name: "no identity", noIdentity: true, keys: []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStage(DefaultBufferConfig(), StageSettings{Next: &switchConsumer{}})
			id := NewServiceIdentity(tc.trusted, tc.fallback)
			set := LinesSettings{Stage: s, Parser: syslog.Parser{Format: syslog.FormatAuto}, Decorate: id.Set, ExtraAttributes: 1}
			if !tc.noIdentity {
				set.ServiceKey = id.Key()
			}
			lines := NewLines(set)
			for _, l := range input {
				lines.Add([]byte(l))
			}
			lines.Flush()
			var keys []string
			s.mu.Lock()
			for n := s.first; n != nil; n = n.next {
				keys = append(keys, n.b.Key)
				n.b.build()
				lrs := n.b.Logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
				for i := range lrs.Len() {
					if v, ok := lrs.At(i).Attributes().Get(logattr.Service); ok && n.b.Key != "" {
						assert.Equal(t, n.b.Key, v.Str(), "the key is the record's logx.service")
					}
				}
			}
			s.mu.Unlock()
			assert.Equal(t, tc.keys, keys)
			require.NoError(t, s.Shutdown(context.Background()))
		})
	}
}

// TestDroppedByServiceBoundsLabels: the service label takes at most
// MaxServiceLabels values beside _other and _none.
func TestDroppedByServiceBoundsLabels(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	tel, err := NewReaderTelemetry(tt.NewTelemetrySettings().MeterProvider.Meter("test"), "test")
	require.NoError(t, err)
	for i := range MaxServiceLabels + 10 {
		tel.DroppedByService("svc-"+strconv.Itoa(i), ReasonBufferFull, 1)
	}
	tel.DroppedByService("svc-0", ReasonFairShare, 5)
	tel.DroppedByService("", ReasonBufferFull, 2)
	m, err := tt.GetMetric("otelcol_logx_test_dropped_records")
	require.NoError(t, err)
	byService := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value("service")
		byService[v.AsString()] += dp.Value
	}
	assert.Len(t, byService, MaxServiceLabels+2)
	assert.Equal(t, int64(10), byService[OtherServicesLabel])
	assert.Equal(t, int64(6), byService["svc-0"])
	assert.Equal(t, int64(2), byService[NoServiceLabel])
}
