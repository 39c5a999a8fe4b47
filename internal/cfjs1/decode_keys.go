package cfjs1

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/xpdata"
)

// mapTarget is where fill puts the members of one map of the record (its
// attributes, or its resource's). pdata's Map.PutEmpty looks for the key
// among those already there, which makes filling a map quadratic in its
// size; a map that starts empty is instead built in a MapBuilder, which
// appends, as long as no key can have come before. Each key sets one of
// 256 bits, by a hash of it; the first key whose bit is already set may be
// a repeat, so what was built is handed to the map and the rest goes
// through PutEmpty, which replaces a repeated key's value in place.
type mapTarget struct {
	m       pcommon.Map
	builder *xpdata.MapBuilder // nil: put into m
	seen    [4]uint64
}

// targetFor returns the target for n members bound for m, building in mb
// when m is empty.
func targetFor(m pcommon.Map, mb *xpdata.MapBuilder, n int) mapTarget {
	if m.Len() == 0 {
		mb.EnsureCapacity(n)
		return mapTarget{m: m, builder: mb}
	}
	m.EnsureCapacity(m.Len() + n)
	return mapTarget{m: m}
}

// add returns the empty value of key, a member added to (or, if the key
// was put before, replaced in) the map.
func (t *mapTarget) add(key string) pcommon.Value {
	if t.builder != nil {
		w, bit := keyBit(key)
		if t.seen[w]&bit == 0 {
			t.seen[w] |= bit
			return t.builder.AppendEmpty(key)
		}
		t.done()
	}
	return t.m.PutEmpty(key)
}

// done moves what was built into the map; the target then puts into it.
func (t *mapTarget) done() {
	if t.builder != nil {
		t.builder.UnsafeIntoMap(t.m)
		t.builder = nil
	}
}

// keyBit hashes a key's length and three of its bytes to one of 256 bits
// (a word of four, and a bit in it): enough to tell apart the keys of a
// log line without reading them whole.
func keyBit(key string) (int, uint64) {
	h := uint64(len(key))
	if n := len(key); n > 0 {
		h |= uint64(key[0])<<16 | uint64(key[n/2])<<24 | uint64(key[n-1])<<32
	}
	h *= 0x9e3779b97f4a7c15
	return int(h >> 62), 1 << (h >> 56 & 63)
}
