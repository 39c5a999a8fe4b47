package journalreceiver

import (
	"errors"
	"math"
	"sync"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
)

// committer stores the cursor of each batch the pipeline accepted, never
// past one it did not: batches are numbered as they are put into the
// stage, and once one is dropped for a reason that leaves it unread (at
// shutdown: the next start must read it again), no later batch's cursor
// is stored. A batch refused with a permanent error is passed, as it
// always was: reading it again could never succeed. The stage delivers in
// order, so accepted batches report in order; the one exception, a
// delivery that returns after the shutdown deadline dropped what was
// queued behind it, is older than them and still stored.
//
// Storing a cursor costs a write, an fsync and a rename, and entries of
// many services interleave in a real journal, so most batches hold a few
// entries. So a report never waits for the store: one goroutine stores
// the newest passed cursor, and the batches passed while it stores are
// stored next, together, by their newest cursor. A crash can then repeat
// the entries of one store cycle, never skip one.
type committer struct {
	save func(cursor string)

	mu       sync.Mutex
	next     uint64 // number of the next batch
	stored   uint64 // number of the batch whose cursor was stored last, +1
	failedAt uint64 // lowest number of a batch dropped unread
	pending  string // the newest passed cursor not stored yet
	storing  bool   // the storing goroutine runs
	stores   sync.WaitGroup
}

// begin numbers a batch about to be put into the stage.
func (c *committer) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == 0 {
		c.failedAt = math.MaxUint64
	}
	seq := c.next
	c.next++
	return seq
}

// done is the batch's Done: it stores cursor when the batch is passed.
func (c *committer) done(seq uint64, cursor string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var drop *ingest.DropError
	if err != nil && !(errors.As(err, &drop) && drop.Reason == ingest.ReasonRefused) {
		c.failedAt = min(c.failedAt, seq)
		return
	}
	if seq >= c.failedAt || seq < c.stored || cursor == "" {
		return
	}
	c.stored = seq + 1
	c.pending = cursor
	if !c.storing {
		c.storing = true
		c.stores.Add(1)
		go c.storeLoop()
	}
}

// storeLoop stores the pending cursor until none is left.
func (c *committer) storeLoop() {
	defer c.stores.Done()
	for {
		c.mu.Lock()
		cursor := c.pending
		c.pending = ""
		if cursor == "" {
			c.storing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.save(cursor)
	}
}

// wait returns once every passed cursor is stored (at shutdown, before the
// store is closed).
func (c *committer) wait() { c.stores.Wait() }
