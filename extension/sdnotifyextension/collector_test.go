package sdnotifyextension_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-logx/otelcol-logx/components"
	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/extension/sdnotifyextension"
)

// These run a whole collector in-process: the real service starts the
// pipelines, calls Ready/NotReady and delivers component statuses.

// failingType is a receiver that starts but then reports a permanent
// error, as a receiver that lost its socket for good would.
var failingType = component.MustNewType("failing")

type failingReceiver struct{}

func (failingReceiver) Start(_ context.Context, host component.Host) error {
	componentstatus.ReportStatus(host, componentstatus.NewPermanentErrorEvent(errors.New("listen unix /run/logx/dev-log: address already in use")))
	return nil
}
func (failingReceiver) Shutdown(context.Context) error { return nil }

func withFailingReceiver() collectortest.Option {
	return collectortest.WithFactories(func() (otelcol.Factories, error) {
		f, err := components.Factories()
		if err != nil {
			return f, err
		}
		f.Extensions[sdnotifyextension.NewFactory().Type()] = sdnotifyextension.NewFactory()
		f.Receivers[failingType] = receiver.NewFactory(failingType,
			func() component.Config { return &struct{}{} },
			receiver.WithLogs(func(context.Context, receiver.Settings, component.Config, consumer.Logs) (receiver.Logs, error) {
				return failingReceiver{}, nil
			}, component.StabilityLevelDevelopment))
		return f, nil
	})
}

func config(fifo string, receivers string) string {
	return `
extensions:
  sdnotify:
receivers:
  fifo:
    path: ` + fifo + `
  failing:
exporters:
  sink/out:
service:
  extensions: [sdnotify]
  pipelines:
    logs:
      receivers: [` + receivers + `]
      exporters: [sink/out]
`
}

func TestCollectorSaysReadyOnceTheFIFOIsRead(t *testing.T) {
	m := sdnotifyextension.ListenManager(t, false)
	fifo := filepath.Join(t.TempDir(), "app.fifo")
	sink := &collectortest.Sink{}
	col := collectortest.Start(t, config(fifo, "fifo"), withFailingReceiver(),
		collectortest.WithSinks(map[string]*collectortest.Sink{"out": sink}))

	got := m.Until("READY=1")
	assert.Equal(t, []string{"STATUS=starting pipelines", "READY=1\nSTATUS=ready: all pipelines started"}, got)
	fd, err := syscall.Open(fifo, syscall.O_WRONLY|syscall.O_NONBLOCK, 0)
	require.NoError(t, err, "no reader on the FIFO after READY=1")
	_, err = syscall.Write(fd, []byte("<14>Nov 22 04:00:00 app[1]: hello\n"))
	require.NoError(t, err)
	require.NoError(t, syscall.Close(fd))
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 1 }, sdnotifyextension.WaitFor, 5*time.Millisecond)

	require.NoError(t, col.Shutdown())
	got = m.Queued()
	assert.Equal(t, 1, sdnotifyextension.CountLine(got, "STOPPING=1"), "%q", got)
	assert.Zero(t, sdnotifyextension.CountLine(got, "RELOADING=1"), "%q", got)
}

func TestCollectorNotReadyWhileAReceiverFailedForGood(t *testing.T) {
	m := sdnotifyextension.ListenManager(t, true)
	fifo := filepath.Join(t.TempDir(), "app.fifo")
	col := collectortest.Start(t, config(fifo, "fifo, failing"), withFailingReceiver(),
		collectortest.WithSinks(map[string]*collectortest.Sink{"out": {}}))

	// Start returned: the collector is running, Ready() was called, and
	// what the extension said about it has been sent.
	got := m.Queued()
	assert.Zero(t, sdnotifyextension.CountLine(got, "READY=1"), "READY=1 although a receiver failed: %q", got)
	assert.Contains(t, got, "STATUS=not ready: receiver failing: permanent error: listen unix /run/logx/dev-log: address already in use")
	_, err := os.Stat(fifo)
	require.NoError(t, err, "the other receiver should be running")

	require.NoError(t, col.Shutdown())
	assert.Equal(t, []string{"STOPPING=1\nSTATUS=stopping"}, m.Queued())
}
