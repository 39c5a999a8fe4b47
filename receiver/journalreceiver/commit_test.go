package journalreceiver

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Entries of many services interleave in a real journal, so most batches
// hold one entry, and storing each batch's cursor (write, fsync, rename)
// cost more than everything else together. Accepted batches that report
// while a store is in progress are stored together, by their newest
// cursor, and a report never waits for the store.
func TestCursorStoresCoalesceWhileOneIsInProgress(t *testing.T) {
	var (
		mu     sync.Mutex
		saved  []string
		gate   = make(chan struct{})
		inSave = make(chan struct{}, 1)
	)
	var c committer
	c.save = func(cursor string) {
		mu.Lock()
		saved = append(saved, cursor)
		first := len(saved) == 1
		mu.Unlock()
		if first {
			inSave <- struct{}{}
			<-gate
		}
	}
	const batches = 100
	seqs := make([]uint64, batches)
	for i := range seqs {
		seqs[i] = c.begin()
	}
	reported, storing := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(reported)
		c.done(seqs[0], "c0", nil)
		<-storing // the rest come while c0 is being stored
		for i, seq := range seqs[1:] {
			c.done(seq, "c"+strconv.Itoa(i+1), nil)
		}
	}()
	<-inSave
	close(storing)
	select {
	case <-reported:
	case <-time.After(10 * time.Second):
		close(gate)
		t.Fatal("reporting an accepted batch waited for the cursor store in progress")
	}
	close(gate)
	c.wait()

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, saved)
	assert.Equal(t, "c0", saved[0])
	assert.Equal(t, "c"+strconv.Itoa(batches-1), saved[len(saved)-1], "the newest accepted cursor is stored last")
	assert.Len(t, saved, 2, "the 99 reported during the first store are stored once")
}

// A failed batch still stops every later cursor, coalesced or not.
func TestCoalescedStoreNeverPassesAFailedBatch(t *testing.T) {
	var c committer
	var saved []string
	c.save = func(cursor string) { saved = append(saved, cursor) }
	a, b, d := c.begin(), c.begin(), c.begin()
	c.done(a, "a", nil)
	c.done(b, "b", assert.AnError)
	c.done(d, "d", nil)
	c.wait()
	assert.Equal(t, []string{"a"}, saved)
}
