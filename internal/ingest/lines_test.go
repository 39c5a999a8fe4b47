package ingest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
)

func TestLinesBatchesParsesAndDecorates(t *testing.T) {
	sink := &consumertest.LogsSink{}
	s := NewStage(DefaultBufferConfig(), StageSettings{Next: sink})
	s.Start()
	var parseErrors []string
	identity := NewServiceIdentity("", "fallback")
	l := NewLines(LinesSettings{
		Stage:           s,
		Parser:          syslog.Parser{Format: syslog.FormatAuto},
		Scope:           "test",
		Decorate:        identity.Set,
		ExtraAttributes: 1,
		OnParseError:    func(r string) { parseErrors = append(parseErrors, r) },
	})
	total := MaxBatchRecords + 10
	for i := range total {
		switch i {
		case 0:
			l.Add([]byte("no header \xff here"))
		default:
			l.Add([]byte("<13>app[1]: line"))
		}
	}
	assert.Equal(t, 10, l.Len(), "a full batch was handed over on its own")
	l.Flush()
	assert.Zero(t, l.Len())
	require.NoError(t, s.Shutdown(context.Background()))

	recs := logRecords(sink)
	require.Len(t, recs, total)
	for _, ld := range sink.AllLogs() {
		assert.Equal(t, "test", ld.ResourceLogs().At(0).ScopeLogs().At(0).Scope().Name())
	}
	lr0, lr1 := recs[0], recs[1]
	assert.Equal(t, "no header \uFFFD here", lr0.Body().Str())
	assert.NotZero(t, lr0.ObservedTimestamp())
	svc, _ := lr0.Attributes().Get(logattr.Service)
	assert.Equal(t, "fallback", svc.Str())
	assert.Equal(t, "line", lr1.Body().Str())
	svc, _ = lr1.Attributes().Get(logattr.Service)
	assert.Equal(t, "app", svc.Str())
	assert.Equal(t, []string{"no_pri"}, parseErrors)
}

func TestLinesByteLimit(t *testing.T) {
	sink := &consumertest.LogsSink{}
	s := NewStage(BufferConfig{MaxBytes: 64 << 20}, StageSettings{Next: sink})
	s.Start()
	l := NewLines(LinesSettings{Stage: s, Parser: syslog.Parser{Format: syslog.FormatRaw}})
	big := []byte(strings.Repeat("z", MaxBatchBytes/3+1))
	for range 3 {
		l.Add(big)
	}
	assert.Equal(t, 1, l.Len(), "the third line did not fit the byte limit")
	l.Flush()
	require.NoError(t, s.Shutdown(context.Background()))
	assert.Equal(t, 3, sink.LogRecordCount())
}

// logRecords returns the records a sink got, in order, whatever requests,
// resources and scopes they came in.
func logRecords(sink *consumertest.LogsSink) []plog.LogRecord {
	var out []plog.LogRecord
	for _, ld := range sink.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					out = append(out, lr)
				}
			}
		}
	}
	return out
}

func TestServiceIdentity(t *testing.T) {
	for _, tc := range []struct {
		name              string
		trusted, fallback string
		appName           string
		want              string // "" means no logx.service
	}{
		{"trusted wins over the message", "nginx.service", "fb", "spoofed", "nginx.service"},
		{"app name when nothing is trusted", "", "fb", "cron", "cron"},
		{"fallback without an app name", "", "fb", "", "fb"},
		{"nothing to write", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := NewServiceIdentity(tc.trusted, tc.fallback)
			lr := plog.NewLogRecord()
			if tc.appName != "" {
				lr.Attributes().PutStr(logattr.SyslogAppName, tc.appName)
			}
			id.Set(lr)
			got, ok := lr.Attributes().Get(logattr.Service)
			if tc.want == "" {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tc.want, got.Str())
			// Changing the record's app name afterwards leaves the
			// identity it was given as it was.
			lr.Attributes().PutStr(logattr.SyslogAppName, "changed")
			got, _ = lr.Attributes().Get(logattr.Service)
			assert.Equal(t, tc.want, got.Str())
		})
	}
}

func TestServiceIdentityAllocatesNothing(t *testing.T) {
	id := NewServiceIdentity("", "")
	lr := plog.NewLogRecord()
	lr.Attributes().PutStr(logattr.SyslogAppName, "cron")
	lr.Attributes().EnsureCapacity(4)
	assert.Zero(t, testing.AllocsPerRun(100, func() { id.Set(lr) }))
}

// The parse path's allocations per line: the record, its attribute array
// and its body. The header fields and the service identity repeat from line
// to line and are shared (internal/sharedvalue), so they add none.
func TestBuildAllocatesThreePerLine(t *testing.T) {
	line := []byte("<30>Nov 22 04:00:00 nginx[4242]: GET /index.html 200")
	identity := NewServiceIdentity("", "")
	set := LinesSettings{Parser: syslog.Parser{Format: syslog.FormatAuto}, Decorate: identity.Set, ExtraAttributes: 1}
	var arena []byte
	var ends []int
	for range MaxBatchRecords {
		arena = append(arena, line...)
		ends = append(ends, len(arena))
	}
	allocs := testing.AllocsPerRun(10, func() { set.build(arena, ends, 1) })
	// Per batch: the Logs, its resource, host.name, scope and record array.
	assert.LessOrEqual(t, allocs, float64(3*MaxBatchRecords+16))
	ld := set.build(arena, ends, 1)
	attrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(MaxBatchRecords - 1).Attributes()
	assert.Equal(t, map[string]any{
		logattr.SyslogFacility: int64(3), logattr.SyslogAppName: "nginx",
		logattr.SyslogProcID: "4242", logattr.Service: "nginx",
	}, attrs.AsRaw())
}
