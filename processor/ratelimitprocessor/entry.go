package ratelimitprocessor

import (
	"math"
	"strings"
)

const (
	// inlineKeyBytes is how much of a key its entry holds: the rest of the
	// entry's cache line. A longer key keeps its first bytes here and the
	// whole key in its cold state, read only after these match.
	inlineKeyBytes = 31
	// longKeyLen is the klen of a key longer than inlineKeyBytes.
	longKeyLen = math.MaxUint8
)

// slot is one place of a shard's open-addressing table and, when in use
// (tag != 0), one key's hot state: everything that deciding a record reads
// or writes, in exactly one 64-byte cache line. So a record whose key is in
// the table touches one line of the table (when its key is at its home
// slot; see shard) and the key, the bucket and the drop counters are all in
// it. Timestamps are nanoseconds since the processor started; tokens are
// fixed-point (see bucket).
//
// A slot moves when the table grows or a key before it is removed; it is
// read and written only under its shard's lock, and so are its cold state
// and everything else below.
type slot struct {
	tag     uint32 // high bits of the key's hash, never 0; 0: the slot is empty
	lim     uint32 // index of the key's limits in limitSet.all
	records bucket // the key's record bucket
	// Drops not yet added to the metric (reason rate) and not yet in a
	// summary (every reason). uint32 keeps the line to 64 bytes; a count
	// that would wrap moves to the cold state's uint64 (see countDrop).
	unreported   uint32
	unsummarised uint32
	klen         uint8 // the key's length, or longKeyLen
	inline       [inlineKeyBytes]byte
}

// coldState is the part of a key's state that the common record does not
// need: the full key when it is longer than inlineKeyBytes, the buckets of
// the bytes limit and of the severity budget (only when configured), and
// the drop counts of those reasons. A key gets one when it enters the table
// if its key or limits need it, else only if a drop count overflows.
type coldState struct {
	key          string // when longer than inlineKeyBytes
	severe       bucket
	bytes        bucket
	unreported   [numReasons]uint64
	unsummarised uint64
}

// needsCold reports whether a key entering the table needs a cold state.
func needsCold(key string, lim *limits) bool {
	return len(key) > inlineKeyBytes || lim.hasBytes || lim.hasSevere
}

// fill makes sl key's entry with full buckets.
func (sl *slot) fill(tag uint32, key string, limIdx uint32, lim *limits, now int64) {
	*sl = slot{tag: tag, lim: limIdx, records: fullBucket(&lim.records, now)}
	if len(key) > inlineKeyBytes {
		sl.klen = longKeyLen
	} else {
		sl.klen = uint8(len(key)) //nolint:gosec // G115: len(key) <= inlineKeyBytes here
	}
	copy(sl.inline[:], key)
}

func newColdState(key string, lim *limits, now int64) *coldState {
	c := &coldState{severe: fullBucket(&lim.severe, now), bytes: fullBucket(&lim.bytes, now)}
	if len(key) > inlineKeyBytes {
		c.key = strings.Clone(key) // key may alias a reused buffer
	}
	return c
}

// matchesInline reports whether key may be sl's key: all of it when it
// fits inline, else its first inlineKeyBytes (the caller then compares the
// whole key with the cold state's).
func (sl *slot) matchesInline(key string) bool {
	if len(key) > inlineKeyBytes {
		return sl.klen == longKeyLen && string(sl.inline[:]) == key[:inlineKeyBytes]
	}
	return int(sl.klen) == len(key) && string(sl.inline[:len(key)]) == key
}

// admit takes the tokens for one record from the key's buckets, or says
// which budget was short. Nothing is taken unless the record passes all.
// c is the key's cold state, nil unless the limits need one.
func admit(sl *slot, c *coldState, lim *limits, now int64, severe bool, size int64) (bool, dropReason) {
	rb, rl, reason := &sl.records, &lim.records, reasonRate
	if severe {
		rb, rl, reason = &c.severe, &lim.severe, reasonSeverityRate
	}
	if !rb.has(rl, now, tokenUnit) {
		return false, reason
	}
	if lim.hasBytes {
		// A record bigger than the burst costs the whole burst, so that it
		// can pass once the bucket is full instead of never.
		cost := lim.bytes.capacity
		if size < lim.bytes.capacity/tokenUnit {
			cost = size * tokenUnit
		}
		if !c.bytes.has(&lim.bytes, now, cost) {
			return false, reasonBytes
		}
		c.bytes.tokens -= cost
	}
	rb.tokens -= tokenUnit
	return true, 0
}

// lastUse is when the key last decided a record: every decision refills
// (and so stamps) the bucket it draws from.
func lastUse(sl *slot, c *coldState) int64 {
	t := sl.records.last
	if c != nil {
		t = max(t, c.severe.last, c.bytes.last)
	}
	return t
}

// idleAt reports whether the key can be forgotten at now without changing
// any decision or losing a count: unused for idle, every bucket full again
// (a new entry starts full), and all its drops reported and summarised.
func idleAt(sl *slot, c *coldState, lim *limits, now, idle int64) bool {
	if now-lastUse(sl, c) < idle || sl.unreported != 0 || sl.unsummarised != 0 {
		return false
	}
	if c != nil {
		if c.unreported != [numReasons]uint64{} || c.unsummarised != 0 ||
			!c.severe.fullAt(&lim.severe, now) || !c.bytes.fullAt(&lim.bytes, now) {
			return false
		}
	}
	return sl.records.fullAt(&lim.records, now)
}
