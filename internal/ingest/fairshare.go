package ingest

import "time"

// Fair share: the Stage's bound is shared by services (Batch.Key, the
// service identity the ratelimit processor keys on). When it is full, the
// service holding the most loses (longest-queue drop, which gives every
// service at least an equal share, max-min fair): an arriving batch of a
// service that would still hold less than the largest holder evicts that
// holder's newest (drop_newest) or oldest (drop_oldest) batch; otherwise
// the arriving service is itself the one over its share and loses as the
// policy says. So a flood from one service cannot take a single line of a
// quieter one: it only ever competes with itself.
//
// Cost per batch does not grow with the number of services: holders are
// found in a map, the largest is the top of a max-heap (a change of one
// holder's bytes moves it only as far as its rank changes), and every
// batch is on two intrusive lists (the delivery order, and its holder's
// own) so that evicting from the middle is O(1). Holders exist only while
// they hold queued batches, and at most MaxServices of them: the services
// beyond share one holder, OverflowKey.

// OverflowKey is the holder of the services that found the table of
// holders full: they share one fair share between them. Their drops are
// still counted under their own service (Batch.Key).
const OverflowKey = "_overflow"

// node is a held batch, linked into the delivery order and into its
// holder's list. Nodes are reused (Stage.free), so holding costs no
// allocation per batch once the stage has warmed up.
type node struct {
	b            Batch
	prev, next   *node // delivery order
	hprev, hnext *node // the holder's batches, oldest first
	h            *holder
	// at is when the batch was offered, since the stage was made: the
	// linger counts from the oldest (linger.go).
	at time.Duration
}

// holder is one service's queued batches. held counts what eviction can
// free: batches being delivered are no longer any holder's.
type holder struct {
	key         string
	held        int64
	first, last *node
	heapIdx     int // position in Stage.heap, -1 when not in it
}

// holderLocked returns the holder of key, making it if needed (the
// overflow holder when the table is full). It is in the table from then
// on; a caller that adds nothing to it calls forgetIfEmptyLocked.
func (s *Stage) holderLocked(key string) *holder {
	if !s.cfg.FairShare.IsEnabled() {
		key = ""
	}
	if h, ok := s.holders[key]; ok {
		return h
	}
	if len(s.holders) >= s.cfg.FairShare.maxServices() && key != OverflowKey {
		return s.holderLocked(OverflowKey)
	}
	var h *holder
	if n := len(s.freeHolders); n > 0 {
		h = s.freeHolders[n-1]
		s.freeHolders = s.freeHolders[:n-1]
	} else {
		h = &holder{}
	}
	*h = holder{key: key, heapIdx: -1}
	s.holders[key] = h
	return h
}

// forgetIfEmptyLocked removes a holder that holds nothing, so that the
// table only ever has the services with something queued.
func (s *Stage) forgetIfEmptyLocked(h *holder) {
	if h.first != nil {
		return
	}
	if h.heapIdx >= 0 {
		s.heapRemove(h)
	}
	delete(s.holders, h.key)
	*h = holder{heapIdx: -1}
	s.freeHolders = append(s.freeHolders, h)
}

// addHeldLocked changes a holder's bytes and its rank.
func (s *Stage) addHeldLocked(h *holder, delta int64) {
	h.held += delta
	switch {
	case h.heapIdx < 0:
		if h.held > 0 {
			h.heapIdx = len(s.heap)
			s.heap = append(s.heap, h)
			s.heapUp(h.heapIdx)
		}
	case delta > 0:
		s.heapUp(h.heapIdx)
	default:
		s.heapDown(h.heapIdx)
	}
}

// victimLocked picks the batch to evict so that a batch of size bytes for
// h can be held, or nil if the arriving batch is the one to drop.
func (s *Stage) victimLocked(h *holder, size int64) *node {
	if len(s.heap) > 0 {
		if top := s.heap[0]; top != h && top.held > h.held+size {
			if s.cfg.Policy == DropOldest {
				return top.first
			}
			return top.last
		}
	}
	// The arriving service would hold the most: it is the one over its
	// share. drop_oldest makes room with its own oldest batches.
	if s.cfg.Policy == DropOldest {
		if h.first != nil {
			return h.first
		}
		// A request held for retry belongs to no holder under
		// drop_newest; under drop_oldest it is its first batch's.
	}
	return nil
}

// The max-heap of holders by held bytes.

func (s *Stage) heapUp(i int) {
	hp := s.heap
	for i > 0 {
		p := (i - 1) / 2
		if hp[p].held >= hp[i].held {
			break
		}
		hp[p], hp[i] = hp[i], hp[p]
		hp[p].heapIdx, hp[i].heapIdx = p, i
		i = p
	}
}

func (s *Stage) heapDown(i int) {
	hp := s.heap
	for {
		l := 2*i + 1
		if l >= len(hp) {
			return
		}
		c := l
		if r := l + 1; r < len(hp) && hp[r].held > hp[l].held {
			c = r
		}
		if hp[i].held >= hp[c].held {
			return
		}
		hp[i], hp[c] = hp[c], hp[i]
		hp[i].heapIdx, hp[c].heapIdx = i, c
		i = c
	}
}

func (s *Stage) heapRemove(h *holder) {
	i, last := h.heapIdx, len(s.heap)-1
	if i != last {
		s.heap[i] = s.heap[last]
		s.heap[i].heapIdx = i
	}
	s.heap[last] = nil
	s.heap = s.heap[:last]
	h.heapIdx = -1
	if i < last {
		s.heapDown(i)
		s.heapUp(i)
	}
}

// Lists.

// newNodeLocked takes a node from the free list.
func (s *Stage) newNodeLocked(b Batch) *node {
	var n *node
	if k := len(s.freeNodes); k > 0 {
		n = s.freeNodes[k-1]
		s.freeNodes = s.freeNodes[:k-1]
	} else {
		n = &node{}
	}
	n.b = b
	return n
}

// pushBackLocked holds b as the newest batch of its holder.
func (s *Stage) pushBackLocked(b Batch) {
	h := s.holderLocked(b.Key)
	n := s.newNodeLocked(b)
	n.at = time.Since(s.epoch)
	n.prev = s.last
	if s.last != nil {
		s.last.next = n
	} else {
		s.first = n
	}
	s.last = n
	n.h = h
	n.hprev = h.last
	if h.last != nil {
		h.last.hnext = n
	} else {
		h.first = n
	}
	h.last = n
	s.queued++
	s.queuedRecords += b.Records
	s.queuedBytes += b.Size
	s.held += b.Size
	s.addHeldLocked(h, b.Size)
}

// pushFrontLocked holds b, a request refused retryably, first in the
// delivery order. Under drop_oldest it is the oldest batch of its first
// batch's service and evictable as such; under drop_newest what is held
// is delivered first, so it belongs to no holder and is never evicted.
func (s *Stage) pushFrontLocked(b Batch) {
	n := s.newNodeLocked(b)
	n.next = s.first
	if s.first != nil {
		s.first.prev = n
	} else {
		s.last = n
	}
	s.first = n
	s.queued++ // its bytes stayed counted in s.held while it was delivered
	s.queuedRecords += b.Records
	s.queuedBytes += b.Size
	if s.cfg.Policy != DropOldest {
		return
	}
	h := s.holderLocked(b.Key)
	n.h = h
	n.hnext = h.first
	if h.first != nil {
		h.first.hprev = n
	} else {
		h.last = n
	}
	h.first = n
	s.addHeldLocked(h, b.Size)
}

// unlinkLocked takes n out of both lists and returns its batch, still
// counted in s.held (the caller releases or keeps it as in flight).
func (s *Stage) unlinkLocked(n *node) Batch {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		s.first = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		s.last = n.prev
	}
	if h := n.h; h != nil {
		if n.hprev != nil {
			n.hprev.hnext = n.hnext
		} else {
			h.first = n.hnext
		}
		if n.hnext != nil {
			n.hnext.hprev = n.hprev
		} else {
			h.last = n.hprev
		}
		s.addHeldLocked(h, -n.b.Size)
		s.forgetIfEmptyLocked(h)
	}
	b := n.b
	*n = node{}
	s.freeNodes = append(s.freeNodes, n)
	s.queued--
	s.queuedRecords -= b.Records
	s.queuedBytes -= b.Size
	return b
}

// popLocked takes the oldest held batch (still counted in s.held).
func (s *Stage) popLocked() Batch { return s.unlinkLocked(s.first) }
