package gomaxprocsextension

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelcol-logx/otelcol-logx/extension/gomaxprocsextension/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/lagsignal"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// settle is how long the process may take to reach a GOMAXPROCS: a few
// intervals, with room for a loaded CI machine.
const settle = 20 * time.Second

func startExtension(t *testing.T, cfg *Config) (*gomaxprocs, *componenttest.Telemetry) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := extensiontest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	e, err := newExtension(set, cfg)
	require.NoError(t, err)
	require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))
	// A test that fails half-way must not leave GOMAXPROCS taken for the
	// next ones; Shutdown twice is harmless.
	t.Cleanup(func() { require.NoError(t, e.Shutdown(context.Background())) })
	return e, tel
}

func procsNow() int { return runtime.GOMAXPROCS(0) }

// burn keeps n goroutines on the CPU until the returned stop is called
// (or settle has passed: the loop is bounded whatever the test does).
func burn(n int) (stop func()) {
	done := make(chan struct{})
	deadline := time.Now().Add(settle)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	return func() { close(done); wg.Wait() }
}

// TestFollowsTheProcessLoad: the real process, its real CPU time. One proc
// from Start; busy on the CPU, up to max; quiet again, down to min; at
// Shutdown, back to what it started with.
func TestFollowsTheProcessLoad(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	cfg := createDefaultConfig().(*Config)
	cfg.Interval = 20 * time.Millisecond
	cfg.ScaleDown.After = 100 * time.Millisecond
	e, tel := startExtension(t, cfg)

	assert.Equal(t, 1, procsNow(), "min from Start on")
	stop := burn(2)
	require.Eventually(t, func() bool { return procsNow() == 2 }, settle, time.Millisecond, "a busy process goes up to max")
	stop()
	require.Eventually(t, func() bool { return procsNow() == 1 }, settle, time.Millisecond, "quiet again, down again")

	require.NoError(t, e.Shutdown(context.Background()))
	assert.Equal(t, 2, procsNow(), "Shutdown puts back the GOMAXPROCS of Start")
	assert.GreaterOrEqual(t, testutil.SumInt64(t, tel, "otelcol_logx_gomaxprocs_changes", attribute.String("direction", "up")), int64(1))
	assert.GreaterOrEqual(t, testutil.SumInt64(t, tel, "otelcol_logx_gomaxprocs_changes", attribute.String("direction", "down")), int64(1))
	assert.Equal(t, map[string]float64{"": 1}, testutil.GaugeByAttribute(t, tel, "otelcol_logx_gomaxprocs_procs", "direction"))
}

// TestStartsAtMin: the process runs with min from Start on, whatever it
// started with, and gets that back at Shutdown.
func TestStartsAtMin(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	cfg := createDefaultConfig().(*Config)
	cfg.Min = 2
	e, tel := startExtension(t, cfg)
	assert.Equal(t, 2, procsNow())
	assert.Equal(t, map[string]float64{"": 2}, testutil.GaugeByAttribute(t, tel, "otelcol_logx_gomaxprocs_procs", "direction"))
	require.NoError(t, e.Shutdown(context.Background()))
	assert.Equal(t, 3, procsNow())
}

// TestOneInstancePerProcess: GOMAXPROCS is one setting; a second instance
// refuses to start, and the first keeps it.
func TestOneInstancePerProcess(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	first, _ := startExtension(t, createDefaultConfig().(*Config))
	second, err := newExtension(extensiontest.NewNopSettings(metadata.Type), createDefaultConfig().(*Config))
	require.NoError(t, err)
	require.ErrorIs(t, second.Start(context.Background(), componenttest.NewNopHost()), errSecondInstance)
	require.NoError(t, second.Shutdown(context.Background()))
	require.NoError(t, first.Shutdown(context.Background()))

	// Once the first has stopped, another may run (a reload).
	third, _ := startExtension(t, createDefaultConfig().(*Config))
	require.NoError(t, third.Shutdown(context.Background()))
}

// TestLaggingReaderDoublesAtOnce: a reader's lag signal raises the procs
// without waiting for the next look at the CPU time (an interval far
// longer than the test).
func TestLaggingReaderDoublesAtOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	cfg := createDefaultConfig().(*Config)
	cfg.Interval = 10 * time.Second
	cfg.ScaleDown.After = time.Hour
	e, tel := startExtension(t, cfg)
	require.Equal(t, 1, procsNow())
	lagsignal.Raise()
	require.Eventually(t, func() bool { return procsNow() == 2 }, settle, time.Millisecond)
	lagsignal.Raise()
	require.Eventually(t, func() bool { return procsNow() == 4 }, settle, time.Millisecond)
	require.NoError(t, e.Shutdown(context.Background()))
	assert.Equal(t, int64(2), testutil.SumInt64(t, tel, "otelcol_logx_gomaxprocs_changes", attribute.String("direction", "up")))
	lagsignal.Raise() // after Shutdown: nobody listens, nothing changes
	assert.Equal(t, 4, procsNow())
}
