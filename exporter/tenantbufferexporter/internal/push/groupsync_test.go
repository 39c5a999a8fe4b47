package push

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Callers that arrive while a sync runs share the next one; none returns
// on a sync that started before it called; an error reaches every caller
// that waited on that sync.
func TestGroupSyncerSharesSyncs(t *testing.T) {
	g := newGroupSyncer(t.TempDir())
	var calls atomic.Int64
	release := make(chan struct{})
	entered := make(chan struct{}, 16)
	g.do = func() error {
		n := calls.Add(1)
		entered <- struct{}{}
		<-release
		if n == 2 {
			return errors.New("disk gone")
		}
		return nil
	}
	first := make(chan error, 1)
	go func() { first <- g.Sync() }()
	<-entered // sync 1 runs
	const n = 10
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- g.Sync()
		}()
	}
	// Wait until all of them are blocked in Sync behind sync 1.
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		w := g.waiters
		g.mu.Unlock()
		if w == n { // the first caller runs sync 1 itself
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callers waiting", w)
		}
		time.Sleep(time.Millisecond)
	}
	release <- struct{}{} // sync 1 ends
	if err := <-first; err != nil {
		t.Fatalf("first caller: %v", err)
	}
	select {
	case err := <-errs:
		t.Fatalf("a caller returned on the sync that started before it called (%v)", err)
	case <-entered: // sync 2 started
	}
	release <- struct{}{}
	wg.Wait()
	close(errs)
	got := 0
	for err := range errs {
		got++
		if err == nil {
			t.Fatal("the failed sync's error did not reach a caller")
		}
	}
	if got != n {
		t.Fatalf("%d callers returned", got)
	}
	if c := calls.Load(); c != 2 {
		t.Fatalf("%d syncs for %d callers, want 2 (one shared)", c, n+1)
	}
}
