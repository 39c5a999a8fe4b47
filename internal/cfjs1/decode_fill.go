package cfjs1

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/xpdata"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/sharedvalue"
)

// recentValues are the last values set at each of the first nodes of a
// line, and of the attributes every line gets: lines from one sender carry
// the same attributes in the same order, most with the same values (host,
// service, format), and a value put again is shared rather than made anew
// (internal/sharedvalue). Only lines of up to maxRecentText bytes of text
// take part, so that the values remembered pin little memory.
type recentValues struct {
	nodes                 [maxRecentNodes]sharedvalue.Slot
	format, deadLetterFor sharedvalue.Slot
}

const (
	maxRecentNodes = 32
	maxRecentText  = 4 << 10
)

// slot returns the Slot for node i: its own, for the first nodes of a
// short line, else the one for the line's last scalar. Through the latter,
// a run of equal values ([1,1,1,...], a key repeated with the same value)
// shares one rather than allocating each: values that cost a line two
// bytes each would otherwise cost pdata an allocation each.
func (d *decoder) slot(i int) *sharedvalue.Slot {
	if !d.useRecent || i >= maxRecentNodes {
		d.lastUsed = true
		return &d.last
	}
	return &d.recent.nodes[i]
}

// fill is the second pass: it writes what the first pass checked into t.
// Maps are sized once, exactly; keys and strings are substrings of d.all.
func (d *decoder) fill(t Target, m Meta) {
	d.useRecent = len(d.all) <= maxRecentText
	if d.fillState == nil {
		d.fillState = new(fillState)
	}
	if d.useRecent && d.recent == nil {
		d.recent = new(recentValues)
	}
	rec := t.Record
	if d.hasTS {
		rec.SetTimestamp(d.ts)
	}
	if d.hasObserved {
		rec.SetObservedTimestamp(d.observed)
	}
	if d.hasSeverity {
		rec.SetSeverityText(d.sub(d.severity))
	}
	if d.hasSeverityNumber {
		rec.SetSeverityNumber(d.severityNumber)
	}
	if d.hasTraceID {
		rec.SetTraceID(d.traceID)
	}
	if d.hasSpanID {
		rec.SetSpanID(d.spanID)
	}
	if d.hasScopeName {
		t.Scope.SetName(d.sub(d.scopeName))
	}
	if d.hasScopeVer {
		t.Scope.SetVersion(d.sub(d.scopeVersion))
	}

	attrs, res := rec.Attributes(), t.Resource.Attributes()
	formatPlaced, deadLetterPlaced := d.findRepeats(m)
	n := d.recordAttrs + 1 // and cfjs1.format
	if m.DeadLetterFor != "" {
		n++
	}
	attrsTarget := targetFor(attrs, &d.attrsBuilder, n)
	resTarget := mapTarget{m: res}
	if d.resourceAttrs > 0 {
		resTarget = targetFor(res, &d.resBuilder, d.resourceAttrs)
	}
	if formatPlaced || deadLetterPlaced {
		d.meta = m // for put
	}
	for i := 0; i < len(d.nodes); {
		switch d.nodes[i].dest {
		case destBody:
			i = d.setValue(rec.Body(), i, nil)
		case destRecordAttr:
			i = d.put(&attrsTarget, i)
		case destAttributes:
			i = d.fillMap(&attrsTarget, i)
		case destResource:
			i = d.fillMap(&resTarget, i)
		default:
			panic("cfjs1: a member node outside a map or slice") // a bug in the first pass
		}
	}
	if !formatPlaced {
		d.formatSlot().SetStr(attrsTarget.add(logattr.CFJS1Format), m.Format)
	}
	if m.DeadLetterFor != "" && !deadLetterPlaced {
		d.deadLetterSlot().SetStr(attrsTarget.add(logattr.CFJS1DeadLetterFor), m.DeadLetterFor)
	}
	attrsTarget.done()
	resTarget.done()
}

// fillMap puts the members of the map node at i into t and returns the
// index after them.
func (d *decoder) fillMap(t *mapTarget, i int) int {
	end := d.nodes[i].val.e
	for i++; i < end; {
		i = d.put(t, i)
	}
	return end
}

// put puts the member node at i into t under its key, with the value its
// mark (node.alt) says, and returns the index after it and its members.
func (d *decoder) put(t *mapTarget, i int) int {
	n := &d.nodes[i]
	switch alt := n.alt; {
	case alt == altSkip:
		return d.next(i)
	case alt == altFormat:
		d.formatSlot().SetStr(t.add(d.sub(n.key)), d.meta.Format)
		return d.next(i)
	case alt == altDeadLetter:
		d.deadLetterSlot().SetStr(t.add(d.sub(n.key)), d.meta.DeadLetterFor)
		return d.next(i)
	case alt > 0:
		// The key comes again later: its last value goes here.
		d.lastUsed = true
		d.setValue(t.add(d.sub(n.key)), int(alt), &d.last)
		return d.next(i)
	}
	v := t.add(d.sub(n.key))
	switch n.kind {
	case kindStr:
		d.slot(i).SetStr(v, d.sub(n.val))
	case kindInt:
		d.slot(i).SetInt(v, n.n)
	case kindDouble:
		d.slot(i).SetDouble(v, math.Float64frombits(uint64(n.n))) //nolint:gosec // G115: the float's bits, stored as int64 by decode_number
	case kindBool:
		d.slot(i).SetBool(v, n.n != 0)
	case kindMap, kindSlice:
		return d.setValue(v, i, nil)
	}
	return i + 1 // kindNull: v stays empty
}

func (d *decoder) fillSlice(s pcommon.Slice, i int) int {
	count := int(d.nodes[i].n)
	s.EnsureCapacity(count)
	d.lastUsed = true
	i++
	for range count {
		i = d.setValue(s.AppendEmpty(), i, &d.last)
	}
	return i
}

// setValue sets v to the node at i and returns the index after it and its
// members. A scalar is put through sl (nil: made anew). null leaves v as it
// is (empty, for a new map member or slice element).
func (d *decoder) setValue(v pcommon.Value, i int, sl *sharedvalue.Slot) int {
	n := &d.nodes[i]
	switch n.kind {
	case kindStr:
		sl.SetStr(v, d.sub(n.val))
	case kindInt:
		sl.SetInt(v, n.n)
	case kindDouble:
		sl.SetDouble(v, math.Float64frombits(uint64(n.n))) //nolint:gosec // G115: the float's bits, stored as int64 by decode_number
	case kindBool:
		sl.SetBool(v, n.n != 0)
	case kindMap:
		return d.fillNested(v.SetEmptyMap(), i)
	case kindSlice:
		return d.fillSlice(v.SetEmptySlice(), i)
	}
	return i + 1
}

// fillNested fills sub, a new map, with the members of the map node at i,
// built by appending in a builder of its depth, and returns the index
// after them.
func (d *decoder) fillNested(sub pcommon.Map, i int) int {
	d.markRepeats(i)
	if d.depth == len(d.builders) {
		d.builders = append(d.builders, new(xpdata.MapBuilder))
	}
	mb := d.builders[d.depth]
	mb.EnsureCapacity(int(d.nodes[i].n))
	t := mapTarget{m: sub, builder: mb}
	d.depth++
	i = d.fillMap(&t, i)
	d.depth--
	t.done()
	return i
}

// fillState is the second pass's scratch and the line's values it puts in
// place of members: the repeated keys of the record's maps and of the map
// being filled (findRepeats), a builder for the maps at each depth of
// nesting, the line's meta, and the slots its values are shared through.
type fillState struct {
	attrsKeys, resKeys, nestedKeys keySet
	builders                       []*xpdata.MapBuilder
	depth                          int
	meta                           Meta             // set when the line has a member cfjs1.format or cfjs1.dead_letter_for
	last                           sharedvalue.Slot // see slot
}

// formatSlot and deadLetterSlot are the slots the line's format and
// dead-letter marker are put through.
func (d *decoder) formatSlot() *sharedvalue.Slot {
	if !d.useRecent {
		return nil
	}
	return &d.recent.format
}

func (d *decoder) deadLetterSlot() *sharedvalue.Slot {
	if !d.useRecent {
		return nil
	}
	return &d.recent.deadLetterFor
}
