package externaljsonprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-logx/otelcol-logx/processor/externaljsonprocessor/internal/metadata"
)

// The background loop refreshes on its own; the test waits on refresh
// completion, then checks that records carry the new value.
func TestLoopRefreshesInBackground(t *testing.T) {
	srv := newStatusServer(t, `{"status":"v1"}`)
	src := httpSource("dc", srv.URL)
	src.Interval, src.Jitter = 20*time.Millisecond, 10*time.Millisecond
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.start(t)
	rec, _ := h.enrich(t, nil)
	require.Equal(t, "v1", rec["status"])

	srv.set(func(s *statusServer) { s.body = `{"status":"v2"}` })
	// Drain what ran before the change, then one refresh that began after it.
	for len(h.refreshes) > 0 {
		<-h.refreshes
	}
	h.waitRefresh(t, 2)
	for range 100 {
		rec, _ = h.enrich(t, nil)
		require.Equal(t, "v2", rec["status"])
	}
}

func TestFactoryLogsProcessorLifecycle(t *testing.T) {
	srv := newStatusServer(t, `{"status":"up"}`)
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Sources = []SourceConfig{httpSource("dc", srv.URL)}
	sink := &consumertest.LogsSink{}
	p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	assert.True(t, p.Capabilities().MutatesData)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	require.NoError(t, p.ConsumeLogs(context.Background(), ld))
	require.NoError(t, p.Shutdown(context.Background()))
	require.Len(t, sink.AllLogs(), 1)
	v, ok := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("status")
	require.True(t, ok, "startup_wait (default 5s) waited for the first fetch")
	assert.Equal(t, "up", v.Str())
}

func TestStartupWaitIsBounded(t *testing.T) {
	argv := writeScript(t, `exec sleep 300`)
	src := commandSource("slow", argv)
	src.Command.Timeout = time.Minute
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 200 * time.Millisecond})
	began := time.Now()
	h.start(t)
	assert.Less(t, time.Since(began), 5*time.Second)
	assert.GreaterOrEqual(t, time.Since(began), 200*time.Millisecond)
	assert.Len(t, h.logs.FilterMessageSnippet("not done within startup_wait").All(), 1)
}
