package sdnotifyextension

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/extension/sdnotifyextension/internal/metadata"
)

var (
	_ extensioncapabilities.PipelineWatcher = (*sdNotify)(nil)
	_ componentstatus.Watcher               = (*sdNotify)(nil)
)

// sdNotify is the extension. All notifications are sent under mu, by
// whichever goroutine has news (Ready, NotReady, the ticker), so they
// reach systemd in the order the state changed.
type sdNotify struct {
	cfg     *Config
	set     extension.Settings
	tel     *metadata.TelemetryBuilder
	reloads *reloadSignals
	board   *statusBoard
	beat    *heartbeat

	socket   *notifySocket // nil: not run by systemd, nothing to do
	watchdog time.Duration // 0: no watchdog pings

	mu        sync.Mutex
	ready     bool // Ready() was called and NotReady() not yet
	readySent bool
	stopping  bool // NotReady was called: RELOADING=1 or STOPPING=1 sent
	status    string
	live      bool

	nudge chan struct{} // a component's status changed
	stop  chan struct{}
	done  chan struct{}
}

func newExtension(set extension.Settings, cfg *Config, reloads *reloadSignals) (*sdNotify, error) {
	tel, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &sdNotify{
		cfg:     cfg,
		set:     set,
		tel:     tel,
		reloads: reloads,
		board:   newStatusBoard(),
		beat:    newHeartbeat(cfg.Watchdog.HeartbeatInterval, cfg.Watchdog.HeartbeatTimeout),
		live:    true,
		nudge:   make(chan struct{}, 1),
	}, nil
}

// Start reads the environment systemd sets. Without $NOTIFY_SOCKET the
// extension stays idle, so that the same config runs outside systemd.
func (e *sdNotify) Start(_ context.Context, host component.Host) error {
	socket, err := notifySocketFromEnv()
	if err != nil {
		e.set.Logger.Warn(err.Error())
	}
	if socket == nil {
		if err == nil {
			e.set.Logger.Debug("sdnotify: NOTIFY_SOCKET is not set (not started by systemd as Type=notify); not sending notifications")
		}
		return nil
	}
	watchdog, err := watchdogFromEnv()
	if err != nil {
		e.set.Logger.Warn(err.Error())
	}
	e.socket, e.watchdog = socket, watchdog
	e.set.Logger.Info("sdnotify: notifying systemd", zap.String("socket", socket.addr.Name), zap.Duration("watchdog", watchdog))

	e.tel.State(metadata.StateNone)
	e.tel.Live(true)
	e.beat.start(host, time.Now())
	e.mu.Lock()
	e.setStatusLocked("starting pipelines")
	e.mu.Unlock()
	e.stop, e.done = make(chan struct{}), make(chan struct{})
	go e.run()
	return nil
}

// run pings the watchdog at half its interval while the liveness check
// passes, and refreshes STATUS= as component statuses change.
func (e *sdNotify) run() {
	defer close(e.done)
	var ping <-chan time.Time
	if e.watchdog > 0 {
		t := time.NewTicker(e.watchdog / 2)
		defer t.Stop()
		ping = t.C
	}
	// A recoverable error outlasting its grace, or a missed heartbeat, is
	// news without an event: look at least every heartbeat interval.
	look := time.NewTicker(e.cfg.Watchdog.HeartbeatInterval)
	defer look.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-ping:
			e.tick(true)
		case <-look.C:
			e.tick(false)
		case <-e.nudge:
			e.tick(false)
		}
	}
}

// tick runs the liveness check, updates READY=1 and STATUS=, and pings
// the watchdog if asked to and the check passed. After RELOADING=1 or
// STOPPING=1 it only pings: systemd enforces the watchdog during a
// reload, and the pipelines may take a while to drain.
func (e *sdNotify) tick(ping bool) {
	now := time.Now()
	v := e.liveness(now)
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.stopping {
		e.refreshLocked(v)
	}
	if !ping {
		return
	}
	if !v.ok {
		e.tel.Withheld(v.reason)
		return
	}
	e.sendLocked(metadata.MessageWatchdog, "WATCHDOG=1")
}

// liveness is the check that gates the pings: no component in a permanent
// or fatal error, none in a recoverable error beyond the grace, and the
// heartbeat's round trips coming back.
func (e *sdNotify) liveness(now time.Time) verdict {
	if v := e.board.check(now, e.cfg.Watchdog.RecoverableErrorGrace); !v.ok {
		return v
	}
	return e.beat.check(now)
}

// refreshLocked sends READY=1 once it is due, and STATUS= when it changed.
func (e *sdNotify) refreshLocked(v verdict) {
	if v.ok != e.live {
		e.live = v.ok
		e.tel.Live(v.ok)
		if !v.ok {
			e.set.Logger.Warn("sdnotify: liveness check failed", zap.String("reason", v.reason), zap.String("detail", v.text))
		} else {
			e.set.Logger.Info("sdnotify: liveness check passes again")
		}
	}
	if e.ready && !e.readySent && e.board.fatal().ok {
		e.readySent = true
		e.status = oneLine(e.statusText(v))
		e.sendLocked(metadata.MessageReady, "READY=1\nSTATUS="+e.status)
		e.tel.State(metadata.StateReady)
		return
	}
	e.setStatusLocked(oneLine(e.statusText(v)))
}

// statusText is the one line systemctl status shows.
func (e *sdNotify) statusText(v verdict) string {
	switch {
	case !e.readySent && v.ok:
		return "starting pipelines"
	case !e.readySent:
		return "not ready: " + v.text
	case v.ok:
		return "ready: all pipelines started"
	case e.watchdog > 0:
		return "unhealthy, watchdog pings withheld: " + v.text
	default:
		return "unhealthy: " + v.text
	}
}

func (e *sdNotify) setStatusLocked(status string) {
	if status == e.status {
		return
	}
	e.status = status
	e.sendLocked(metadata.MessageStatus, "STATUS="+status)
}

// sendLocked sends one notification and counts it.
func (e *sdNotify) sendLocked(message, msg string) {
	if err := e.socket.send(msg); err != nil {
		e.tel.Failed(message, failureReason(err))
		e.set.Logger.Warn("sdnotify: notification not sent", zap.String("message", message), zap.Error(err))
		return
	}
	e.tel.Sent(message)
}

// oneLine makes a text fit one STATUS= line: a component's error with a
// newline would otherwise start a line systemd reads as another variable
// (READY=1, WATCHDOG=1, ...).
func oneLine(s string) string {
	return strings.ToValidUTF8(strings.Join(strings.Fields(s), " "), "?")
}

// Ready is called once every pipeline has started: READY=1 goes out now,
// unless a component has already failed for good.
func (e *sdNotify) Ready() error {
	if e.socket == nil {
		return nil
	}
	v := e.liveness(time.Now())
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopping {
		return nil
	}
	e.ready = true
	e.refreshLocked(v)
	return nil
}

// NotReady is called before the receivers stop, for a reload (SIGHUP) as
// for a stop: it tells systemd which one it is.
func (e *sdNotify) NotReady() error {
	if e.socket == nil {
		return nil
	}
	e.mu.Lock()
	if e.stopping {
		e.mu.Unlock()
		return nil
	}
	e.stopping = true
	e.ready = false
	e.mu.Unlock()

	e.beat.halt()
	reload := e.reloads.takeReload(reloadSignalWait)
	e.mu.Lock()
	defer e.mu.Unlock()
	if reload {
		e.status = "reloading configuration"
		e.sendLocked(metadata.MessageReloading, fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d\nSTATUS=%s", monotonicUsec(), e.status))
		e.tel.State(metadata.StateReloading)
		return nil
	}
	e.status = "stopping"
	e.sendLocked(metadata.MessageStopping, "STOPPING=1\nSTATUS="+e.status)
	e.tel.State(metadata.StateStopping)
	return nil
}

// ComponentStatusChanged keeps every component's status. It runs under
// the collector's status lock, so it only records and nudges.
func (e *sdNotify) ComponentStatusChanged(source *componentstatus.InstanceID, event *componentstatus.Event) {
	if source.ComponentID() == e.set.ID && source.Kind() == component.KindExtension {
		if event.Status() == componentstatus.StatusOK {
			e.beat.echo(time.Now())
		}
		return
	}
	e.board.record(source, event)
	select {
	case e.nudge <- struct{}{}:
	default:
	}
}

// Shutdown stops the pings. If NotReady was never called (the collector
// failed while starting), it says STOPPING=1 now.
func (e *sdNotify) Shutdown(context.Context) error {
	if e.socket == nil {
		return nil
	}
	if err := e.NotReady(); err != nil {
		return err
	}
	if e.stop != nil {
		close(e.stop)
		<-e.done
		e.stop = nil
	}
	return nil
}
