package ratelimitprocessor

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// numShards splits the key table so that records of different keys rarely
// wait for the same lock. A power of two: the shard is the low bits of the
// key's hash; the slot's tag is the high 32 bits.
const (
	numShards = 256
	shardBits = 8
	// A shard grows when more than maxLoadNum/maxLoadDen of its slots are
	// used. At most half full, a key is found at its home slot (one cache
	// line) most of the time, and in the next line most of the rest.
	maxLoadNum, maxLoadDen = 1, 2
)

// shard is a linear-probing hash table whose slots are the keys' entries
// (see slot), with a parallel array of pointers to the keys' cold states.
// A key's home slot is its tag modulo the table size: the tag alone places
// a key when the table grows or a slot is shifted back on removal, so the
// full hash need not be kept. The header is one cache line: the 256 shard
// headers (16 KiB) stay in cache as long as records arrive.
type shard struct {
	mu    sync.Mutex
	slots []slot       // length a power of two
	cold  []*coldState // cold[i] belongs to slots[i]
	n     int
}

func (s *shard) init(size int) {
	s.slots, s.cold = make([]slot, size), make([]*coldState, size)
}

// find returns the index of key's slot, or -1.
func (s *shard) find(tag uint32, key string) int {
	mask := len(s.slots) - 1
	for i := int(tag) & mask; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		if sl.tag == 0 {
			return -1
		}
		if sl.tag == tag && sl.matchesInline(key) && (sl.klen != longKeyLen || s.cold[i].key == key) {
			return i
		}
	}
}

// insert adds key, which is not in the shard, and returns its index. key
// may alias a reused buffer: a long key is copied before it is kept.
func (s *shard) insert(tag uint32, key string, limIdx uint32, lim *limits, now int64) int {
	if (s.n+1)*maxLoadDen > len(s.slots)*maxLoadNum {
		s.grow()
	}
	i := s.free(tag)
	s.slots[i].fill(tag, key, limIdx, lim, now)
	if needsCold(key, lim) {
		s.cold[i] = newColdState(key, lim, now)
	}
	s.n++
	return i
}

// free returns the first empty slot of tag's probe run.
func (s *shard) free(tag uint32) int {
	mask := len(s.slots) - 1
	i := int(tag) & mask
	for s.slots[i].tag != 0 {
		i = (i + 1) & mask
	}
	return i
}

func (s *shard) grow() {
	oldSlots, oldCold := s.slots, s.cold
	s.slots = make([]slot, 2*len(oldSlots))
	s.cold = make([]*coldState, 2*len(oldSlots))
	for i := range oldSlots {
		if tag := oldSlots[i].tag; tag != 0 {
			j := s.free(tag)
			s.slots[j], s.cold[j] = oldSlots[i], oldCold[i]
		}
	}
}

// removeAt deletes slot i, shifting later slots of its probe run back so
// that no lookup stops early at the hole (no tombstones to accumulate). A
// slot that was after i may now be at i.
func (s *shard) removeAt(i int) {
	mask := len(s.slots) - 1
	for j := (i + 1) & mask; s.slots[j].tag != 0; j = (j + 1) & mask {
		k := int(s.slots[j].tag) & mask
		// Move slot j into the hole at i unless its home lies cyclically
		// in (i, j].
		if (j > i && (k <= i || k > j)) || (j < i && k <= i && k > j) {
			s.slots[i], s.cold[i] = s.slots[j], s.cold[j]
			i = j
		}
	}
	s.slots[i], s.cold[i] = slot{}, nil
	s.n--
}

// keyAt is the key of slot i (a copy: for the background jobs, which may
// keep it after the lock is released).
func (s *shard) keyAt(i int) string {
	sl := &s.slots[i]
	if sl.klen == longKeyLen {
		return s.cold[i].key
	}
	return string(sl.inline[:sl.klen])
}

// coldAt returns slot i's cold state, making one if it has none (only
// when a drop count overflows its hot uint32: the limits' buckets are
// made when the key enters the table).
func (s *shard) coldAt(i int) *coldState {
	if s.cold[i] == nil {
		s.cold[i] = &coldState{}
	}
	return s.cold[i]
}

// countDrop counts one dropped record of slot i for the metric and, when
// summaries are on, for the next summary.
func (s *shard) countDrop(i int, reason dropReason, summaries bool) {
	sl := &s.slots[i]
	if reason == reasonRate {
		if sl.unreported == math.MaxUint32 {
			s.coldAt(i).unreported[reasonRate] += uint64(sl.unreported)
			sl.unreported = 0
		}
		sl.unreported++
	} else {
		// Only keys with a bytes limit or a severity budget drop for
		// these reasons, and those keys have a cold state already.
		s.coldAt(i).unreported[reason]++
	}
	if summaries {
		if sl.unsummarised == math.MaxUint32 {
			s.coldAt(i).unsummarised += uint64(sl.unsummarised)
			sl.unsummarised = 0
		}
		sl.unsummarised++
	}
}

// takeUnreported returns slot i's drops since the last call, per reason.
func (s *shard) takeUnreported(i int) [numReasons]uint64 {
	sl := &s.slots[i]
	var n [numReasons]uint64
	n[reasonRate] = uint64(sl.unreported)
	sl.unreported = 0
	if c := s.cold[i]; c != nil {
		for r := range n {
			n[r] += c.unreported[r]
		}
		c.unreported = [numReasons]uint64{}
	}
	return n
}

// takeUnsummarised returns slot i's drops since the last call.
func (s *shard) takeUnsummarised(i int) uint64 {
	sl := &s.slots[i]
	n := uint64(sl.unsummarised)
	sl.unsummarised = 0
	if c := s.cold[i]; c != nil {
		n += c.unsummarised
		c.unsummarised = 0
	}
	return n
}

// table maps keys to entries. It holds at most max keys plus the one
// overflow entry, whatever arrives: memory is bounded by max_keys.
type table struct {
	seed   maphash.Seed
	shards [numShards]shard
	// published[i] is shards[i].slots, for prefetch, which runs without
	// the lock: an atomic pointer, so that it never sees a torn slice
	// header. Set again whenever a shard grows.
	published [numShards]atomic.Pointer[[]slot]
	count     atomic.Int64
	max       int64
	limits    *limitSet
	// overflowS holds the one overflow entry, at index 0: the bucket that
	// keys share while the table is full.
	overflowS shard
}

func newTable(max int, ls *limitSet, now int64) *table {
	t := &table{seed: maphash.MakeSeed(), max: int64(max), limits: ls}
	for i := range t.shards {
		t.shards[i].init(8)
		t.publish(i)
	}
	t.overflowS.init(1)
	t.overflowS.slots[0].fill(1, "", overflowIndex, ls.overflow, now)
	t.overflowS.cold[0] = newColdState("", ls.overflow, now)
	t.overflowS.n = 1
	return t
}

// hash is key's hash in this table.
func (t *table) hash(key string) uint64 { return maphash.String(t.seed, key) }

// locate maps a key's hash to its shard and tag.
func (t *table) locate(h uint64) (*shard, uint32) {
	return &t.shards[h&(numShards-1)], tagOf(h)
}

func tagOf(h uint64) uint32 {
	if tag := uint32(h >> 32); tag != 0 {
		return tag
	}
	return 1
}

// publish makes shard i's current slots the ones prefetch reads (with the
// shard's lock held, or before the table is shared).
func (t *table) publish(i int) {
	slots := t.shards[i].slots
	t.published[i].Store(&slots)
}

// prefetch starts loading the home slot of the key with hash h, and its
// shard's header (the lock), into the cache, so that they are there when
// the key's record is decided a few records later: with many keys the
// table is far larger than the CPU's caches, and a lookup that waits for
// its lines from memory costs more than deciding. It reads nothing itself
// (see prefetchLine), so it needs no lock.
func (t *table) prefetch(h uint64) {
	slots := *t.published[h&(numShards-1)].Load()
	prefetchLine(uintptr(unsafe.Pointer(&t.shards[h&(numShards-1)])))           //nolint:gosec // G103: a prefetch hint: the address is not dereferenced
	prefetchLine(uintptr(unsafe.Pointer(&slots[int(tagOf(h))&(len(slots)-1)]))) //nolint:gosec // G103: a prefetch hint: the address is not dereferenced
}

// lookup returns the key's shard, locked, and the index of its slot,
// adding the key if the table has room, else the overflow entry
// (overflowed true). key may alias a reused buffer.
func (t *table) lookup(key string, now int64) (s *shard, i int, overflowed bool) {
	return t.lookupHashed(key, t.hash(key), now)
}

// lookupHashed is lookup of a key whose hash is h.
func (t *table) lookupHashed(key string, h uint64, now int64) (s *shard, i int, overflowed bool) {
	s, tag := t.locate(h)
	s.mu.Lock()
	if i = s.find(tag, key); i >= 0 {
		return s, i, false
	}
	// Load first: while the table is full, overflowing keys do not all
	// write the shared counter.
	if t.count.Load() >= t.max {
		return t.toOverflow(s)
	}
	if t.count.Add(1) > t.max {
		t.count.Add(-1)
		return t.toOverflow(s)
	}
	li := t.limits.forKey(key)
	size := len(s.slots)
	i = s.insert(tag, key, li, t.limits.all[li], now)
	if len(s.slots) != size {
		t.publish(int(h & (numShards - 1)))
	}
	return s, i, false
}

func (t *table) toOverflow(s *shard) (*shard, int, bool) {
	s.mu.Unlock()
	t.overflowS.mu.Lock()
	return &t.overflowS, 0, true
}

// len is the number of keys in the table (the overflow entry not counted).
func (t *table) len() int64 { return t.count.Load() }

// sweep forgets idle keys; it returns how many. It visits every slot, one
// shard lock at a time, on the background schedule: the per-record path
// never scans.
func (t *table) sweep(now, idle int64) int {
	n := 0
	for si := range t.shards {
		s := &t.shards[si]
		s.mu.Lock()
		for i := 0; i < len(s.slots); {
			sl := &s.slots[i]
			if sl.tag != 0 && idleAt(sl, s.cold[i], t.limits.all[sl.lim], now, idle) {
				// Removal may shift a later slot into i: look at i again.
				// (A slot shifted in from the start of the array, already
				// judged busy, is judged busy again.)
				s.removeAt(i)
				t.count.Add(-1)
				n++
				continue
			}
			i++
		}
		s.mu.Unlock()
	}
	return n
}

// each calls f on every key's slot, the overflow entry last (overflow
// true), with its shard locked.
func (t *table) each(f func(s *shard, i int, overflow bool)) {
	for si := range t.shards {
		s := &t.shards[si]
		s.mu.Lock()
		for i := range s.slots {
			if s.slots[i].tag != 0 {
				f(s, i, false)
			}
		}
		s.mu.Unlock()
	}
	t.overflowS.mu.Lock()
	f(&t.overflowS, 0, true)
	t.overflowS.mu.Unlock()
}
