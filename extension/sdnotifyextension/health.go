package sdnotifyextension

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component/componentstatus"
)

// Reasons a liveness check fails: the "reason" attribute of the withheld
// pings counter.
const (
	reasonComponentError  = "component_error"
	reasonRecoverableLong = "recoverable_error_too_long"
	reasonHeartbeat       = "heartbeat"
)

// maxErrText bounds how much of a component's error goes into a STATUS=
// line (systemctl status shows one line).
const maxErrText = 200

// verdict is the outcome of a check: ok, or the failed check's reason
// (for the counter) and a short text for STATUS=.
type verdict struct {
	ok     bool
	reason string
	text   string
}

var alive = verdict{ok: true}

// componentState is what the board keeps per component instance.
type componentState struct {
	status componentstatus.Status
	err    error
	// since is when the instance entered its current error status (a
	// recoverable error repeated does not restart the grace).
	since time.Time
}

// statusBoard holds the last status event of every component instance,
// as the collector's status reporter delivers them.
type statusBoard struct {
	mu    sync.Mutex
	byID  map[componentstatus.InstanceID]componentState
	names map[componentstatus.InstanceID]string
}

func newStatusBoard() *statusBoard {
	return &statusBoard{
		byID:  map[componentstatus.InstanceID]componentState{},
		names: map[componentstatus.InstanceID]string{},
	}
}

// record keeps an event. The reporter calls its watchers under its own
// lock, so this only updates a map.
func (b *statusBoard) record(id *componentstatus.InstanceID, ev *componentstatus.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	prev, seen := b.byID[*id]
	st := componentState{status: ev.Status(), err: ev.Err(), since: ev.Timestamp()}
	if seen && prev.status == st.status {
		st.since = prev.since
	}
	b.byID[*id] = st
	if !seen {
		b.names[*id] = strings.ToLower(id.Kind().String()) + " " + id.ComponentID().String()
	}
}

// fatal reports the first component (by name, so that STATUS= is stable)
// in a permanent or fatal error: such a component will not recover
// without a restart.
func (b *statusBoard) fatal() verdict {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range b.sortedLocked() {
		st := b.byID[id]
		if st.status == componentstatus.StatusPermanentError || st.status == componentstatus.StatusFatalError {
			return verdict{reason: reasonComponentError, text: b.describeLocked(id, st, "")}
		}
	}
	return alive
}

// check is fatal, plus: no component in a recoverable error for longer
// than grace.
func (b *statusBoard) check(now time.Time, grace time.Duration) verdict {
	if v := b.fatal(); !v.ok {
		return v
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range b.sortedLocked() {
		st := b.byID[id]
		if st.status == componentstatus.StatusRecoverableError && now.Sub(st.since) > grace {
			return verdict{reason: reasonRecoverableLong, text: b.describeLocked(id, st, " for "+now.Sub(st.since).Truncate(time.Second).String())}
		}
	}
	return alive
}

func (b *statusBoard) sortedLocked() []componentstatus.InstanceID {
	ids := make([]componentstatus.InstanceID, 0, len(b.byID))
	for id := range b.byID {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return b.names[ids[i]] < b.names[ids[j]] })
	return ids
}

func (b *statusBoard) describeLocked(id componentstatus.InstanceID, st componentState, extra string) string {
	what := map[componentstatus.Status]string{
		componentstatus.StatusRecoverableError: "recoverable error",
		componentstatus.StatusPermanentError:   "permanent error",
		componentstatus.StatusFatalError:       "fatal error",
	}[st.status]
	s := fmt.Sprintf("%s: %s%s", b.names[id], what, extra)
	if st.err != nil {
		e := st.err.Error()
		if len(e) > maxErrText {
			e = e[:maxErrText] + "..."
		}
		s += ": " + e
	}
	return s
}
