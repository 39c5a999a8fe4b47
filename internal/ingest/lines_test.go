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
	l := NewLines(LinesSettings{
		Stage:           s,
		Parser:          syslog.Parser{Format: syslog.FormatAuto},
		Scope:           "test",
		Decorate:        func(lr plog.LogRecord) { SetService(lr, "", "fallback") },
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

	require.Len(t, sink.AllLogs(), 2)
	assert.Equal(t, MaxBatchRecords, sink.AllLogs()[0].LogRecordCount())
	first := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0)
	assert.Equal(t, "test", first.Scope().Name())
	lr0, lr1 := first.LogRecords().At(0), first.LogRecords().At(1)
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
	assert.Len(t, sink.AllLogs(), 2)
}
