package sdnotifyextension

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-logx/otelcol-logx/extension/sdnotifyextension/internal/metadata"
)

const (
	statusStarting = "STATUS=starting pipelines"
	statusReady    = "STATUS=ready: all pipelines started"
)

func TestReadyOnlyAfterPipelinesReady(t *testing.T) {
	for _, abstract := range []bool{false, true} {
		t.Run("abstract="+strconv.FormatBool(abstract), func(t *testing.T) {
			m := listenManager(t, abstract)
			h := startHarness(t, testConfig(), newReloadSignals())
			assert.Equal(t, statusStarting, m.next(waitFor))

			// Components start and report OK: still no READY=1, the
			// pipelines are not all started until Ready().
			h.report(component.KindExporter, "nop", componentstatus.NewEvent(componentstatus.StatusOK))
			h.report(component.KindReceiver, "fifo/app", componentstatus.NewEvent(componentstatus.StatusOK))
			h.ext.tick(false)
			assert.Zero(t, countLine(m.queued(), "READY=1"), "READY=1 before Ready()")

			require.NoError(t, h.ext.Ready())
			got := m.queued()
			require.Len(t, got, 1)
			assert.Equal(t, "READY=1\n"+statusReady, got[0])
			assert.Equal(t, int64(1), h.sum("otelcol_logx_sdnotify_notifications", "message", metadata.MessageReady))
			state, ok := h.gauge("otelcol_logx_sdnotify_state")
			assert.True(t, ok)
			assert.Equal(t, metadata.StateReady, state)

			// READY=1 is said once.
			require.NoError(t, h.ext.Ready())
			h.ext.tick(false)
			assert.Zero(t, countLine(m.queued(), "READY=1"))
		})
	}
}

func TestNoReadyWhileAComponentFailedForGood(t *testing.T) {
	for _, st := range []componentstatus.Status{componentstatus.StatusPermanentError, componentstatus.StatusFatalError} {
		t.Run(st.String(), func(t *testing.T) {
			m := listenManager(t, false)
			h := startHarness(t, testConfig(), newReloadSignals())
			m.until(statusStarting)
			h.report(component.KindReceiver, "fifo/app", componentstatus.NewEvent(componentstatus.StatusOK))
			h.report(component.KindReceiver, "fifo/app", componentstatus.NewEvent(st, componentstatus.WithError(errors.New("open /run/logx/app.fifo: permission denied"))))

			require.NoError(t, h.ext.Ready())
			h.ext.tick(false)
			got := m.queued()
			assert.Zero(t, countLine(got, "READY=1"), "READY=1 although a receiver failed: %q", got)
			what := map[componentstatus.Status]string{componentstatus.StatusPermanentError: "permanent", componentstatus.StatusFatalError: "fatal"}[st]
			assert.Equal(t, []string{"STATUS=not ready: receiver fifo/app: " + what + " error: open /run/logx/app.fifo: permission denied"}, got)
			state, _ := h.gauge("otelcol_logx_sdnotify_state")
			assert.Equal(t, metadata.StateNone, state)
		})
	}
}

func TestWatchdogPingsFollowComponentStatus(t *testing.T) {
	m := listenManager(t, false)
	t.Setenv("WATCHDOG_USEC", "100000") // pings every 50ms
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	cfg := testConfig()
	cfg.Watchdog.RecoverableErrorGrace = 400 * time.Millisecond
	h := startHarness(t, cfg, newReloadSignals())
	require.Equal(t, 100*time.Millisecond, h.ext.watchdog)
	require.NoError(t, h.ext.Ready())
	m.until("READY=1")
	m.until("WATCHDOG=1")

	// A recoverable error (the memory limiter refusing data): pings go on
	// within the grace, then stop.
	failedAt := time.Now()
	h.report(component.KindProcessor, "memory_limiter", componentstatus.NewRecoverableErrorEvent(errors.New("data refused due to high memory usage")))
	got := m.until("STATUS=")
	for !strings.HasPrefix(got[len(got)-1], "STATUS=unhealthy") {
		got = append(got, m.until("STATUS=")...)
	}
	assert.GreaterOrEqual(t, time.Since(failedAt), cfg.Watchdog.RecoverableErrorGrace, "pings stopped before the grace ended")
	assert.GreaterOrEqual(t, countLine(got, "WATCHDOG=1"), 2, "no pings within the grace: %q", got)
	assert.Contains(t, got[len(got)-1], "STATUS=unhealthy, watchdog pings withheld: processor memory_limiter: recoverable error for ")
	assert.Contains(t, got[len(got)-1], ": data refused due to high memory usage")

	require.Eventually(t, func() bool {
		return h.sum("otelcol_logx_sdnotify_withheld_pings", "reason", reasonRecoverableLong) >= 3
	}, waitFor, 10*time.Millisecond)
	assert.Zero(t, countLine(m.queued(), "WATCHDOG=1"), "pinged while a component was in a recoverable error beyond the grace")
	live, _ := h.gauge("otelcol_logx_sdnotify_live")
	assert.Equal(t, int64(0), live)

	// It recovers: the status says so, and the pings resume.
	h.report(component.KindProcessor, "memory_limiter", componentstatus.NewEvent(componentstatus.StatusOK))
	got = m.until("WATCHDOG=1")
	assert.Equal(t, statusReady, got[0], "%q", got)
	live, _ = h.gauge("otelcol_logx_sdnotify_live")
	assert.Equal(t, int64(1), live)

	// A permanent error stops them at once and for good.
	h.report(component.KindExporter, "cfjs1", componentstatus.NewPermanentErrorEvent(errors.New("tls: bad certificate")))
	got = m.until("STATUS=")
	assert.Equal(t, "STATUS=unhealthy, watchdog pings withheld: exporter cfjs1: permanent error: tls: bad certificate", got[len(got)-1])
	require.Eventually(t, func() bool {
		return h.sum("otelcol_logx_sdnotify_withheld_pings", "reason", reasonComponentError) >= 3
	}, waitFor, 10*time.Millisecond)
	assert.Zero(t, countLine(m.queued(), "WATCHDOG=1"))
}

func TestWatchdogPingsStopWhenTheStatusPathIsWedged(t *testing.T) {
	m := listenManager(t, true)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", "")
	cfg := testConfig()
	cfg.Watchdog.HeartbeatInterval = 20 * time.Millisecond
	cfg.Watchdog.HeartbeatTimeout = 200 * time.Millisecond
	h := startHarness(t, cfg, newReloadSignals())
	require.NoError(t, h.ext.Ready())
	m.until("READY=1")
	m.until("WATCHDOG=1")

	// The collector's status reporter hangs: the heartbeat's round trips
	// stop coming back, and so do the pings.
	h.host.block()
	got := m.until("STATUS=")
	assert.Contains(t, got[len(got)-1], "STATUS=unhealthy, watchdog pings withheld: no status round trip through the collector for ")
	require.Eventually(t, func() bool {
		return h.sum("otelcol_logx_sdnotify_withheld_pings", "reason", reasonHeartbeat) >= 3
	}, waitFor, 10*time.Millisecond)
	assert.Zero(t, countLine(m.queued(), "WATCHDOG=1"), "pinged while the status path was wedged")

	h.host.unblock()
	got = m.until("WATCHDOG=1")
	assert.Equal(t, statusReady, got[0], "%q", got)
}

func TestStoppingOnNotReadyAndShutdown(t *testing.T) {
	m := listenManager(t, false)
	h := startHarness(t, testConfig(), newReloadSignals())
	require.NoError(t, h.ext.Ready())
	m.until("READY=1")

	require.NoError(t, h.ext.NotReady())
	assert.Equal(t, []string{"STOPPING=1\nSTATUS=stopping"}, m.queued())
	require.NoError(t, h.ext.Shutdown(context.Background()))
	assert.Empty(t, m.queued(), "said more than once")
	state, _ := h.gauge("otelcol_logx_sdnotify_state")
	assert.Equal(t, metadata.StateStopping, state)
	assert.Equal(t, int64(1), h.sum("otelcol_logx_sdnotify_notifications", "message", metadata.MessageStopping))
}

func TestStoppingWhenTheCollectorFailsToStart(t *testing.T) {
	m := listenManager(t, false)
	h := startHarness(t, testConfig(), newReloadSignals())
	m.until(statusStarting)
	// A pipeline failed to start: the collector shuts down without Ready().
	require.NoError(t, h.ext.Shutdown(context.Background()))
	assert.Equal(t, []string{"STOPPING=1\nSTATUS=stopping"}, m.queued())
}

func TestReloadIsNotAStop(t *testing.T) {
	m := listenManager(t, false)
	reloads := newReloadSignals()
	old := startHarness(t, testConfig(), reloads)
	require.NoError(t, old.ext.Ready())
	m.until("READY=1")

	// SIGHUP twice: the collector reloads twice, each time through
	// NotReady, Shutdown and a new instance.
	reloads.signal()
	reloads.signal()
	for range 2 {
		require.NoError(t, old.ext.NotReady())
		got := m.queued()
		require.Len(t, got, 1)
		lines := strings.Split(got[0], "\n")
		require.Len(t, lines, 3, "%q", got[0])
		assert.Equal(t, "RELOADING=1", lines[0])
		usec, err := strconv.ParseInt(strings.TrimPrefix(lines[1], "MONOTONIC_USEC="), 10, 64)
		require.NoError(t, err, lines[1])
		assert.Positive(t, usec)
		assert.Equal(t, "STATUS=reloading configuration", lines[2])
		require.NoError(t, old.ext.Shutdown(context.Background()))
		assert.Empty(t, m.queued())
		state, _ := old.gauge("otelcol_logx_sdnotify_state")
		assert.Equal(t, metadata.StateReloading, state)

		next := startHarness(t, testConfig(), reloads)
		require.NoError(t, next.ext.Ready())
		got = m.until("READY=1")
		assert.Zero(t, countLine(got, "STOPPING=1"))
		old = next
	}
	// No SIGHUP left unanswered: this one is a stop.
	require.NoError(t, old.ext.NotReady())
	assert.Equal(t, []string{"STOPPING=1\nSTATUS=stopping"}, m.queued())
}

// A SIGHUP that shut nothing down (a partial reload, or a refused config
// under it) must not turn the stop that follows into a "reload".
func TestStopAfterASIGHUPThatShutNothingDown(t *testing.T) {
	t.Run("termination signal", func(t *testing.T) {
		r := newReloadSignals()
		r.signal()
		r.terminate()
		assert.False(t, r.takeReload(time.Millisecond))
	})
	t.Run("stale SIGHUP", func(t *testing.T) {
		r := newReloadSignals()
		clock := time.Now()
		r.now = func() time.Time { return clock }
		r.signal()
		clock = clock.Add(reloadSignalTTL + time.Second)
		assert.False(t, r.takeReload(time.Millisecond))
	})
	t.Run("bounded", func(t *testing.T) {
		r := newReloadSignals()
		for range 3 * maxPendingReloads {
			r.signal()
		}
		n := 0
		for r.takeReload(0) {
			n++
		}
		assert.Equal(t, maxPendingReloads, n)
	})
}

func TestReloadSignalIsTheProcessSIGHUP(t *testing.T) {
	r := processReloadSignals()
	assert.False(t, r.takeReload(time.Millisecond))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	assert.True(t, r.takeReload(waitFor), "SIGHUP not seen")
	assert.False(t, r.takeReload(time.Millisecond), "one SIGHUP answered twice")
}

func TestIdleWithoutNotifySocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "100000")
	core, logs := observer.New(zap.DebugLevel)
	tel := componenttest.NewTelemetry()
	defer func() { _ = tel.Shutdown(context.Background()) }()
	set := extensiontest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	set.TelemetrySettings.MeterProvider = tel.NewTelemetrySettings().MeterProvider
	ext, err := newExtension(set, testConfig(), newReloadSignals())
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, ext.Ready())
	require.NoError(t, ext.NotReady())
	require.NoError(t, ext.Shutdown(context.Background()))

	assert.Equal(t, 1, logs.Len(), "%v", logs.All())
	assert.Equal(t, 1, logs.FilterMessageSnippet("NOTIFY_SOCKET is not set").FilterLevelExact(zap.DebugLevel).Len())
	assert.Nil(t, ext.done, "a goroutine was started")
	_, err = tel.GetMetric("otelcol_logx_sdnotify_notifications")
	assert.Error(t, err, "notifications counted without a socket")
}

func TestFailedNotificationsAreCounted(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "/nonexistent-logx-dir/notify.sock")
	h := startHarness(t, testConfig(), newReloadSignals())
	require.NoError(t, h.ext.Ready())
	assert.Equal(t, int64(1), h.sum("otelcol_logx_sdnotify_failed_notifications", "message", metadata.MessageStatus))
	assert.Equal(t, int64(1), h.sum("otelcol_logx_sdnotify_failed_notifications", "message", metadata.MessageReady))
	assert.Equal(t, int64(2), h.sum("otelcol_logx_sdnotify_failed_notifications", "reason", "dial"))
	assert.Zero(t, h.sum("otelcol_logx_sdnotify_notifications", "", ""))
}

func TestAComponentsErrorCannotAddNotificationLines(t *testing.T) {
	m := listenManager(t, false)
	h := startHarness(t, testConfig(), newReloadSignals())
	m.until(statusStarting)
	h.report(component.KindReceiver, "unixsocket", componentstatus.NewPermanentErrorEvent(errors.New("bad\nREADY=1\nWATCHDOG=1")))
	require.NoError(t, h.ext.Ready())
	got := m.queued()
	require.Len(t, got, 1)
	assert.Equal(t, "STATUS=not ready: receiver unixsocket: permanent error: bad READY=1 WATCHDOG=1", got[0])
}

func TestWatchdogFromEnv(t *testing.T) {
	ours := strconv.Itoa(os.Getpid())
	for _, tc := range []struct {
		name, usec, pid string
		want            time.Duration
		err             string
	}{
		{name: "unset", want: 0},
		{name: "set", usec: "30000000", want: 30 * time.Second},
		{name: "ours", usec: "30000000", pid: ours, want: 30 * time.Second},
		{name: "another process's", usec: "30000000", pid: "1", want: 0},
		{name: "zero", usec: "0", err: "not a positive number"},
		{name: "not a number", usec: "30s", err: "not a positive number"},
		{name: "overflows", usec: "18446744073709551", err: "not a positive number"},
		{name: "bad pid", usec: "30000000", pid: "me", err: "not a process id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("WATCHDOG_USEC", tc.usec)
			t.Setenv("WATCHDOG_PID", tc.pid)
			got, err := watchdogFromEnv()
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestNotifySocketFromEnv(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "run/systemd/notify")
	s, err := notifySocketFromEnv()
	assert.Nil(t, s)
	require.ErrorContains(t, err, "neither an absolute path nor an abstract socket name")

	t.Setenv("NOTIFY_SOCKET", "@abstract")
	s, err = notifySocketFromEnv()
	require.NoError(t, err)
	assert.Equal(t, "@abstract", s.addr.Name)
}

// A host without a status reporter (an embedding of the extension outside
// the collector's service) cannot echo the heartbeat: the heartbeat then
// only proves its own goroutine runs, and the pings must go on.
func TestHeartbeatWithoutStatusReporter(t *testing.T) {
	m := listenManager(t, false)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", "")
	cfg := testConfig()
	cfg.Watchdog.HeartbeatInterval = 20 * time.Millisecond
	cfg.Watchdog.HeartbeatTimeout = 100 * time.Millisecond
	set := extensiontest.NewNopSettings(metadata.Type)
	ext, err := newExtension(set, cfg, newReloadSignals())
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
	require.NoError(t, ext.Ready())
	m.until("READY=1")
	began := time.Now()
	var got []string
	for time.Since(began) < 3*cfg.Watchdog.HeartbeatTimeout {
		got = append(got, m.until("WATCHDOG=1")...)
	}
	assert.Zero(t, countLine(got, "STATUS="), "the liveness check failed: %q", got)
}

// systemd enforces the watchdog during a reload, and the pipelines may
// take a while to drain: the pings go on after NotReady until the
// extension itself is shut down, and not after.
func TestPingsGoOnUntilShutdown(t *testing.T) {
	m := listenManager(t, false)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", "")
	reloads := newReloadSignals()
	h := startHarness(t, testConfig(), reloads)
	require.NoError(t, h.ext.Ready())
	m.until("READY=1")

	reloads.signal()
	require.NoError(t, h.ext.NotReady())
	m.until("RELOADING=1")
	got := m.until("WATCHDOG=1")
	got = append(got, m.until("WATCHDOG=1")...)
	assert.Len(t, got, 2, "only pings after RELOADING=1: %q", got)

	require.NoError(t, h.ext.Shutdown(context.Background()))
	m.queued() // a ping sent before Shutdown returned
	_, ok := m.read(300 * time.Millisecond)
	assert.False(t, ok, "a notification after Shutdown")
}
