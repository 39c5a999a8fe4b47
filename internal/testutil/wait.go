package testutil

import (
	"strings"
	"testing"
	"time"
)

// WaitFor polls cond until it holds and returns when it first did; after d
// it fails the test, saying what it waited for and the state each of state
// describes (counters, queue lengths: what a reader of the failure needs).
// Use it where require.Eventually does not fit: the caller needs the time
// the condition became true, or the failure must show state; many tests
// also use it for its shorter call. The poll interval is a small part of d,
// not a stand-in for synchronisation.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool, state ...func() string) time.Time {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := min(max(d/1000, time.Millisecond), 50*time.Millisecond)
	for !cond() {
		if time.Now().After(deadline) {
			st := make([]string, 0, len(state))
			for _, f := range state {
				st = append(st, f())
			}
			if len(st) > 0 {
				t.Fatalf("timed out after %s waiting for %s: %s", d, what, strings.Join(st, "; "))
			}
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(tick)
	}
	return time.Now()
}
