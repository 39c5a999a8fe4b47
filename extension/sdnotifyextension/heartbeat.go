package sdnotifyextension

import (
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
)

// heartbeat proves, every interval, that the collector's event path still
// runs: it reports the extension's own StatusOK through the host, and the
// collector's status reporter hands the event back to every watcher,
// this extension included (echo). A round trip needs the Go scheduler to
// run both goroutines and the reporter's lock, which every component's
// status goes through, to be free. A collector frozen, starved of CPU, or
// stuck in the status path stops the echoes, and the pings with them.
type heartbeat struct {
	interval time.Duration
	timeout  time.Duration

	mu       sync.Mutex
	lastEcho time.Time
	running  bool

	stop chan struct{}
	done chan struct{}
}

func newHeartbeat(interval, timeout time.Duration) *heartbeat {
	return &heartbeat{interval: interval, timeout: timeout}
}

// start begins the round trips. A host that does not deliver status (an
// embedding without a status reporter) cannot echo: the heartbeat then
// only proves that its own goroutine runs.
func (h *heartbeat) start(host component.Host, now time.Time) {
	h.mu.Lock()
	h.lastEcho = now
	h.running = true
	h.mu.Unlock()
	h.stop = make(chan struct{})
	h.done = make(chan struct{})
	_, echoes := host.(componentstatus.Reporter)
	go h.run(host, echoes)
}

func (h *heartbeat) run(host component.Host, echoes bool) {
	defer close(h.done)
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		if echoes {
			componentstatus.ReportStatus(host, componentstatus.NewEvent(componentstatus.StatusOK))
		} else {
			h.echo(time.Now())
		}
	}
}

// echo records a round trip that came back.
func (h *heartbeat) echo(now time.Time) {
	h.mu.Lock()
	h.lastEcho = now
	h.mu.Unlock()
}

// halt ends the round trips before the collector reports the extension
// stopping (a late StatusOK would be an invalid transition). It waits for
// a round trip in flight only up to timeout: one stuck in a wedged
// reporter is left behind rather than holding up the shutdown.
func (h *heartbeat) halt() {
	h.mu.Lock()
	was := h.running
	h.running = false
	h.mu.Unlock()
	if !was {
		return
	}
	close(h.stop)
	t := time.NewTimer(h.timeout)
	defer t.Stop()
	select {
	case <-h.done:
	case <-t.C:
	}
}

// check fails when the last round trip is older than timeout. A halted
// heartbeat (pipelines shutting down) passes: the component statuses
// still count.
func (h *heartbeat) check(now time.Time) verdict {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.running {
		return alive
	}
	if age := now.Sub(h.lastEcho); age > h.timeout {
		return verdict{reason: reasonHeartbeat, text: "no status round trip through the collector for " + age.Truncate(time.Millisecond).String()}
	}
	return alive
}
