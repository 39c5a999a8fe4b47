package cfjs1

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/xpdata"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// A key repeated in a map keeps its first place and takes its last value,
// as pdata's Map.PutEmpty gives when members are put one by one. PutEmpty
// finds a key by looking at every key before it, which makes filling a map
// quadratic in its size: a line of 40000 keys would take seconds. Instead,
// before a map is filled, findRepeats marks its repeated members, in time
// linear in their number, and the map is then built by appending
// (xpdata.MapBuilder), without any search.
//
// The marks are in node.alt, for a member of a map:
const (
	altOwn        = 0  // the member's own value (its key is not repeated later)
	altSkip       = -1 // a repeat, whose value went to the first place
	altFormat     = -2 // the key is cfjs1.format: the line's format goes here
	altDeadLetter = -3 // the key is cfjs1.dead_letter_for: the line's marker goes here
	// > 0: the index of the last member of the same key, whose value goes here.
)

// keySet tells which keys of one map were seen, in constant time per key.
// Most maps of a line are small, and most keys differ: a filter of 256 bits
// (one per key, by a hash of it) tells a new key at once. A key whose bit
// was set may be a repeat: while the map has at most smallKeys keys it is
// compared with them; past that, the keys go into a hash map, where every
// later key is found.
type keySet struct {
	bits  [4]uint64
	order []int // the member node of each key's first occurrence, in line order
	index map[string]int
	// members is how many members the map has in all (the first pass
	// counted them): the hash map is made that large at once, since
	// growing it step by step rehashes every key it holds each time (a
	// map of 10,000 keys spent most of its decoding there).
	members int
}

// smallKeys is how many keys a possible repeat is compared with one by one
// before the set switches to its hash map.
const smallKeys = 16

// keepIndex bounds the hash map a pooled decoder keeps from line to line.
const keepIndex = 1024

// reset empties the set for a map of members members.
func (ks *keySet) reset(members int) {
	ks.members = members
	ks.bits = [4]uint64{}
	ks.order = ks.order[:0]
	if len(ks.index) > keepIndex {
		ks.index = nil
	} else if ks.index != nil {
		clear(ks.index)
	}
}

// indexed reports whether the keys are in the hash map.
func (ks *keySet) indexed() bool { return len(ks.index) > 0 }

// add returns the first member node of key, or -1 if key is new: then it
// remembers member as key's first.
func (ks *keySet) add(d *decoder, key string, member int) int {
	if !ks.indexed() {
		w, bit := keyBit(key)
		if ks.bits[w]&bit == 0 {
			ks.bits[w] |= bit
			ks.order = append(ks.order, member)
			return -1
		}
		if len(ks.order) <= smallKeys {
			if first, ok := ks.scan(d, key); ok {
				return first
			}
			ks.order = append(ks.order, member)
			return -1
		}
		ks.makeIndex(d)
	}
	if first, ok := ks.index[key]; ok {
		return first
	}
	ks.index[key] = member
	return -1
}

// find returns the first member node of key, if it was seen.
func (ks *keySet) find(d *decoder, key string) (int, bool) {
	if ks.indexed() {
		m, ok := ks.index[key]
		return m, ok
	}
	if w, bit := keyBit(key); ks.bits[w]&bit == 0 {
		return 0, false
	}
	return ks.scan(d, key)
}

func (ks *keySet) scan(d *decoder, key string) (int, bool) {
	for _, m := range ks.order {
		if d.sub(d.nodes[m].key) == key {
			return m, true
		}
	}
	return 0, false
}

func (ks *keySet) makeIndex(d *decoder) {
	if ks.index == nil || ks.members > keepIndex {
		ks.index = make(map[string]int, max(ks.members, 2*len(ks.order)))
	}
	for _, m := range ks.order {
		ks.index[d.sub(d.nodes[m].key)] = m
	}
}

// keyBits is a filter of 256 bits, one set for each key seen (keyBit): a
// key whose bit is not set is new. The first pass keeps one for each map,
// so that the second looks for repeated keys only in a map where a key's
// bit was set already (for a log line's dozen keys, about one line in four).
type keyBits [4]uint64

// seen sets key's bit and reports whether it was set already.
func (kb *keyBits) seen(key []byte) bool { return kb.set(keyBitOf(key)) }

// set sets bit in word w and reports whether it was set already.
func (kb *keyBits) set(w int, bit uint64) bool {
	was := kb[w&3]&bit != 0
	kb[w&3] |= bit
	return was
}

// keyBitOf is keyBit of a key's bytes.
func keyBitOf(key []byte) (int, uint64) {
	h := uint64(len(key))
	if n := len(key); n > 0 {
		h |= uint64(key[0])<<16 | uint64(key[n/2])<<24 | uint64(key[n-1])<<32
	}
	return hashBit(h)
}

// metaKeyBits has the bits of the attributes the line's own fields set.
var metaKeyBits = func() (kb keyBits) {
	kb.seen([]byte(logattr.CFJS1Format))
	kb.seen([]byte(logattr.CFJS1DeadLetterFor))
	return kb
}()

// keyBit hashes a key's length and three of its bytes to one of 256 bits
// (a word of four, and a bit in it): enough to tell apart the keys of a
// log line without reading them whole.
func keyBit(key string) (int, uint64) {
	h := uint64(len(key))
	if n := len(key); n > 0 {
		h |= uint64(key[0])<<16 | uint64(key[n/2])<<24 | uint64(key[n-1])<<32
	}
	return hashBit(h)
}

// hashBit spreads the length and bytes keyBit packed into h to a word and
// a bit.
func hashBit(h uint64) (int, uint64) {
	h *= 0x9e3779b97f4a7c15
	return int(h >> 62), 1 << (h >> 56 & 63)
}

// member records member (a node with a key) in ks, and marks it and the
// first of its key when it is a repeat.
func (d *decoder) member(ks *keySet, member int) {
	first := ks.add(d, d.sub(d.nodes[member].key), member)
	if first < 0 {
		return
	}
	d.nodes[first].alt = int32(member) //nolint:gosec // G115: a node index; a message is bounded far below 2^31 nodes by the frame size limit
	d.nodes[member].alt = altSkip
}

// markRepeats marks the repeated keys of the map node at i, if the first
// pass saw that it may have some.
func (d *decoder) markRepeats(i int) {
	if d.nodes[i].val.s == 0 {
		return
	}
	ks := &d.nestedKeys
	ks.reset(int(d.nodes[i].n))
	end := d.nodes[i].val.e
	for j := i + 1; j < end; j = d.next(j) {
		d.member(ks, j)
	}
}

// findRepeats marks the repeated keys of the two maps a line fills from
// several places: the record's attributes (the wrapper's other fields, the
// members of every "attributes" object, and cfjs1.format and
// cfjs1.dead_letter_for, which the line's own fields set last) and the
// resource's attributes (the members of every "resource" object). It
// returns whether the format and the dead-letter marker have their place
// among the line's keys.
func (d *decoder) findRepeats(m Meta) (formatPlaced, deadLetterPlaced bool) {
	if !d.attrsMayRepeat && !d.resMayRepeat {
		return false, false
	}
	attrs, res := &d.attrsKeys, &d.resKeys
	attrs.reset(d.recordAttrs + 2) // and cfjs1.format, cfjs1.dead_letter_for
	res.reset(d.resourceAttrs)
	for i := 0; i < len(d.nodes); i = d.next(i) {
		switch d.nodes[i].dest {
		case destRecordAttr:
			if d.attrsMayRepeat {
				d.member(attrs, i)
			}
		case destAttributes:
			for j, end := i+1, d.nodes[i].val.e; d.attrsMayRepeat && j < end; j = d.next(j) {
				d.member(attrs, j)
			}
		case destResource:
			for j, end := i+1, d.nodes[i].val.e; d.resMayRepeat && j < end; j = d.next(j) {
				d.member(res, j)
			}
		}
	}
	if !d.attrsMayRepeat {
		return false, false // a key cfjs1.format would have set a bit twice
	}
	if at, ok := attrs.find(d, logattr.CFJS1Format); ok {
		d.nodes[at].alt, formatPlaced = altFormat, true
	}
	if m.DeadLetterFor != "" {
		if at, ok := attrs.find(d, logattr.CFJS1DeadLetterFor); ok {
			d.nodes[at].alt, deadLetterPlaced = altDeadLetter, true
		}
	}
	return formatPlaced, deadLetterPlaced
}

// mapTarget is where fill puts the members of one map of the record (its
// attributes, or its resource's, or a map value). Its members have no
// repeats left (findRepeats), so a map that starts empty is built by
// appending. A map the caller filled before keeps what it has: the line's
// members are put into it one by one (PutEmpty replaces a key it has, in
// place) when both are small; else they are built apart and merged in
// (mergeInto), both in linear time.
type mapTarget struct {
	m       pcommon.Map
	builder *xpdata.MapBuilder // nil: put into m
	merge   bool               // m had members: merge what was built into it
}

// mergeSmall bounds the members (the map's and the line's) that are put
// one by one into a map that has members already.
const mergeSmall = 32

// targetFor returns the target for n members bound for m, building in mb
// unless m is small and has members already.
func targetFor(m pcommon.Map, mb *xpdata.MapBuilder, n int) mapTarget {
	if had := m.Len(); had > 0 {
		if had+n <= mergeSmall {
			m.EnsureCapacity(had + n)
			return mapTarget{m: m}
		}
		mb.EnsureCapacity(n)
		return mapTarget{m: m, builder: mb, merge: true}
	}
	mb.EnsureCapacity(n)
	return mapTarget{m: m, builder: mb}
}

// add returns the empty value of key, a member appended to the map (or,
// put into a map that had members, added or replaced in place).
func (t *mapTarget) add(key string) pcommon.Value {
	if t.builder != nil {
		return t.builder.AppendEmpty(key)
	}
	return t.m.PutEmpty(key)
}

// done moves what was built into the map.
func (t *mapTarget) done() {
	if t.builder == nil {
		return
	}
	if t.merge {
		built := pcommon.NewMap()
		t.builder.UnsafeIntoMap(built)
		mergeInto(t.m, built)
	} else {
		t.builder.UnsafeIntoMap(t.m)
	}
	t.builder = nil
}

// mergeInto moves the members of src (which has no repeated key) into dst:
// a key dst has keeps its place and takes src's value, the others follow in
// src's order. It is linear in the members of both: dst is rebuilt.
func mergeInto(dst, src pcommon.Map) {
	vals := make([]pcommon.Value, 0, src.Len())
	index := make(map[string]int, src.Len())
	for k, v := range src.All() {
		index[k] = len(vals)
		vals = append(vals, v)
	}
	taken := make([]bool, len(vals))
	var mb xpdata.MapBuilder
	mb.EnsureCapacity(dst.Len() + src.Len())
	for k, v := range dst.All() {
		if at, ok := index[k]; ok {
			v, taken[at] = vals[at], true
		}
		v.MoveTo(mb.AppendEmpty(k))
	}
	at := 0
	for k := range src.All() {
		if !taken[at] {
			vals[at].MoveTo(mb.AppendEmpty(k))
		}
		at++
	}
	mb.UnsafeIntoMap(dst)
}
