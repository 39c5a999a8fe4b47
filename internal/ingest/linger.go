package ingest

import "time"

// Linger: what a request costs downstream is mostly paid per request, not
// per record (the pipeline's hand-offs, the exporter's queue and batcher,
// a disk sync). A busy service writes one line per write(2) or datagram,
// and a reader hands over what one read got, often a single line: sent at
// once, every line would be a request of its own. So the sender lets the
// oldest held batch wait for company, up to Linger, unless what is held
// already makes a full request (LingerRecords or LingerBytes), the batch
// is a retry, or the stage is stopping. At 10k lines/s a request then
// carries ~100 lines instead of one or a few; a lone line written once a
// second reaches the consumer Linger later, well within the 200 ms a line
// may take end to end.
//
// Nothing ticks while nothing is held: the sender waits on its wake
// channel alone, and arms its timer only for the batch it lingers on.
// Offer wakes it only when it is idle (the first batch after a quiet
// spell) or when what is held crosses a threshold: while it lingers or
// delivers it looks at the queue again by itself, so a read costs no
// goroutine switch.

// DefaultLinger is the Linger of the line readers (fifo, unixsocket): a
// few milliseconds, so that at 1k-100k lines/s a request carries tens to
// a thousand lines, while a lone line is delayed by far less than its
// latency budget. A receiver whose reader batches by itself (the journal)
// leaves Linger 0: its batches go as they come.
const DefaultLinger = 10 * time.Millisecond

// A request goes at once, without lingering, when what is held reaches a
// full reader batch (Lines' MaxBatchRecords or MaxBatchBytes): waiting
// longer would not make the request cheaper per record.
const (
	LingerRecords = MaxBatchRecords
	LingerBytes   = MaxBatchBytes
)

// linger is the configured wait; 0 sends at once.
func (s *Stage) linger() time.Duration { return max(s.set.Linger, 0) }

// fullLocked reports whether what is queued makes a full request.
func (s *Stage) fullLocked() bool {
	return s.queuedRecords >= LingerRecords || s.queuedBytes >= LingerBytes
}

// lingerLocked returns how much longer the oldest queued batch waits for
// company before the sender takes it: 0 or less to take it now.
func (s *Stage) lingerLocked() time.Duration {
	first := &s.first.b
	if first.retry || s.fullLocked() {
		return 0
	}
	d := s.linger()
	if d == 0 {
		return 0
	}
	return d - (time.Since(s.epoch) - s.first.at)
}

// wakeLocked tells Offer and Put whether to wake the sender: only when it
// waits with nothing held (it then arms its linger timer) or when the
// batch just queued makes a full request. The wake is consumed now, so a
// burst of reads wakes it once.
func (s *Stage) wakeLocked() bool {
	if s.idle || s.fullLocked() {
		s.idle = false
		return true
	}
	return false
}
