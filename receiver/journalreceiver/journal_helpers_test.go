package journalreceiver

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/receiver/journalreceiver/internal/metadata"
)

// recordingConsumer keeps what it accepted; refuse decides per call.
type recordingConsumer struct {
	mu       sync.Mutex
	accepted []plog.LogRecord
	calls    int
	sizes    []int // records offered per call
	refuse   func(call int) error
}

func (c *recordingConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *recordingConsumer) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	c.sizes = append(c.sizes, ld.LogRecordCount())
	if c.refuse != nil {
		if err := c.refuse(c.calls); err != nil {
			return err
		}
	}
	testutil.EachLogRecord(ld, func(rl plog.ResourceLogs, _ plog.ScopeLogs, rec plog.LogRecord) {
		lr := plog.NewLogRecord()
		rec.CopyTo(lr)
		if h, ok := rl.Resource().Attributes().Get("host.name"); ok {
			lr.Attributes().PutStr("test.resource.host.name", h.Str())
		}
		c.accepted = append(c.accepted, lr)
	})
	return nil
}

// testConfig reads everything from dir, with the cursor in cursorDir and
// short delays.
func testConfig(dir, cursorDir string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = dir
	cfg.CursorDirectory = cursorDir
	cfg.StartAt = "beginning"
	cfg.Batch.FlushInterval = 20 * time.Millisecond
	cfg.RetryOnFailure = BackoffConfig{InitialInterval: 5 * time.Millisecond, MaxInterval: 50 * time.Millisecond}
	cfg.Restart = BackoffConfig{InitialInterval: 10 * time.Millisecond, MaxInterval: 100 * time.Millisecond}
	return cfg
}

// readerConfig is testConfig with the given reader.
func readerConfig(reader, dir, cursorDir string) *Config {
	cfg := testConfig(dir, cursorDir)
	cfg.Reader = reader
	return cfg
}

// bothReaders runs a test with each reader: they must behave the same.
func bothReaders(t *testing.T, test func(t *testing.T, reader string)) {
	for _, reader := range []string{readerDirect, readerJournalctl} {
		t.Run(reader, func(t *testing.T) { test(t, reader) })
	}
}

// receiverSettings names the receiver "journal" (receivertest's ID is
// random), so that a restarted receiver finds its cursor.
func receiverSettings() receiver.Settings {
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	return set
}

// runningReceiver is a started receiver with its telemetry.
type runningReceiver struct {
	t   *testing.T
	rcv *journalReceiver
	tel *componenttest.Telemetry
}

func startReceiver(t *testing.T, cfg *Config, next consumer.Logs, host component.Host) *runningReceiver {
	t.Helper()
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	set := receiverSettings()
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.Logger = zaptest.NewLogger(t)
	rcv, err := newJournalReceiver(set, cfg, next)
	require.NoError(t, err)
	if host == nil {
		host = componenttest.NewNopHost()
	}
	require.NoError(t, rcv.Start(context.Background(), host))
	r := &runningReceiver{t: t, rcv: rcv, tel: tel}
	t.Cleanup(r.stop)
	return r
}

// stop shuts the receiver down; safe to call twice.
func (r *runningReceiver) stop() {
	if r.rcv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(r.t, r.rcv.Shutdown(ctx))
	r.rcv = nil
}

// counter sums an Int64 counter's data points whose attributes include
// reason (or all of them when reason is "").
func (r *runningReceiver) counter(name, reason string) int64 {
	m, err := r.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if reason != "" {
			if v, ok := dp.Attributes.Value("reason"); !ok || v.AsString() != reason {
				continue
			}
		}
		n += dp.Value
	}
	return n
}
