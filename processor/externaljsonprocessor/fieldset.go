package externaljsonprocessor

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/xpdata"

	"github.com/otelcol-logx/otelcol-logx/internal/sharedvalue"
)

// conflictPolicy says what to do when the attribute already exists (or not).
type conflictPolicy uint8

const (
	policyUpsert conflictPolicy = iota // always set
	policyInsert                       // set only if absent
	policyUpdate                       // set only if present
)

func parsePolicy(s string) (conflictPolicy, bool) {
	switch s {
	case "", "upsert":
		return policyUpsert, true
	case "insert":
		return policyInsert, true
	case "update":
		return policyUpdate, true
	}
	return 0, false
}

// field is one prepared attribute: built once per refresh, then only read
// by any number of goroutines. Records get its value through sharedvalue:
// a scalar is shared by every record that holds it, not copied into each.
type field struct {
	key    string
	value  sharedvalue.Value
	policy conflictPolicy
}

// newField prepares a field (at refresh time, not per record). v must not
// be changed afterwards: records share it.
func newField(key string, v pcommon.Value, p conflictPolicy) field {
	return field{key: key, value: sharedvalue.Of(v), policy: p}
}

// put upserts the field into m.
func (f *field) put(m pcommon.Map) { f.value.CopyTo(m.PutEmpty(f.key)) }

// set overwrites v (an attribute of a record) with the field's value.
func (f *field) set(v pcommon.Value) { f.value.CopyTo(v) }

// fieldSet is what the hot path applies. It is immutable once published
// through processor.current.
type fieldSet struct {
	record   []field
	resource []field
	// recordPrep and resourcePrep let most maps take the whole set in one
	// go (see applyPrepared); nil when not prepared.
	recordPrep   *preparedFields
	resourcePrep *preparedFields
}

// newFieldSet prepares a field set (once per refresh).
func newFieldSet(record, resource []field) *fieldSet {
	return &fieldSet{
		record:       record,
		resource:     resource,
		recordPrep:   prepareFields(record),
		resourcePrep: prepareFields(resource),
	}
}

// preparedFields is a field list worked out in advance for maps that hold
// none of its keys, which is nearly every record. For such a map apply's
// result is always the map's own attributes followed by onEmpty (the
// fields applied to an empty map), so it can be built without pdata's
// Put*, which scans the whole map for the key on every call.
type preparedFields struct {
	onEmpty pcommon.Map
	// entries are onEmpty's, ready to be shared into records.
	entries []preparedEntry
	// keys are the distinct keys of the fields, whatever their policy: a
	// map holding one of them takes apply's per-field path.
	keys []string
	// lenMask has bit n set when a key is n bytes long (n < 64), longKeys
	// when one is longer: most attribute names are rejected on their length.
	lenMask  uint64
	longKeys bool
}

// prepareFields returns nil for an empty list. onEmpty comes from apply
// itself, not a re-implementation of it, so every policy, the order and a
// key given twice come out exactly as apply would leave them.
func prepareFields(fields []field) *preparedFields {
	if len(fields) == 0 {
		return nil
	}
	p := &preparedFields{onEmpty: pcommon.NewMap()}
	apply(p.onEmpty, fields)
	for k, v := range p.onEmpty.All() {
		p.entries = append(p.entries, preparedEntry{key: k, value: sharedvalue.Of(v)})
	}
	seen := make(map[string]bool, len(fields))
	for i := range fields {
		k := fields[i].key
		if seen[k] {
			continue
		}
		seen[k] = true
		p.keys = append(p.keys, k)
		if len(k) < 64 {
			p.lenMask |= 1 << len(k)
		} else {
			p.longKeys = true
		}
	}
	return p
}

type preparedEntry struct {
	key   string
	value sharedvalue.Value
}

// holdsAnyKey reports whether m already has one of the fields' keys.
func (p *preparedFields) holdsAnyKey(m pcommon.Map) bool {
	for k := range m.All() {
		if n := len(k); n < 64 && p.lenMask&(1<<n) == 0 || n >= 64 && !p.longKeys {
			continue
		}
		for _, fk := range p.keys {
			// Same length and last byte first: prefixed keys share their start.
			if len(fk) == len(k) && fk[len(fk)-1] == k[len(k)-1] && fk == k {
				return true
			}
		}
	}
	return false
}

func (fs *fieldSet) empty() bool { return fs == nil || (len(fs.record) == 0 && len(fs.resource) == 0) }

// apply adds fields to m. It parses nothing and takes no lock: each field is
// a key and a ready value, so the cost is the map look-up and the copy.
func apply(m pcommon.Map, fields []field) {
	m.EnsureCapacity(m.Len() + len(fields))
	for i := range fields {
		f := &fields[i]
		switch f.policy {
		case policyUpsert:
			f.put(m)
		case policyInsert:
			if v, exists := m.GetOrPutEmpty(f.key); !exists {
				f.set(v)
			}
		case policyUpdate:
			if v, exists := m.Get(f.key); exists {
				f.set(v)
			}
		}
	}
}

// applyPrepared gives m exactly what apply(m, fields) would, faster when m
// holds none of the fields' keys (p from prepareFields; nil: plain apply):
// m's own attributes are moved (not copied) into a new slice sized once,
// followed by the prepared values, with no per-key scan. The only
// allocation is that slice, which apply also needs when the map grows:
// scalar values are shared, not copied (sharedvalue). mb is the
// caller's scratch builder (one per goroutine; empty between calls).
// xpdata.MapBuilder is the collector's (experimental) API for building a map
// without the duplicate-key scan; it is versioned with the core modules, so
// a change to it breaks the build rather than behaviour. The moved entries
// lose only KeyStrindex, which logs do not use (profiles' string table).
func applyPrepared(m pcommon.Map, fields []field, p *preparedFields, mb *xpdata.MapBuilder) {
	if p == nil || p.holdsAnyKey(m) {
		apply(m, fields)
		return
	}
	mb.EnsureCapacity(m.Len() + len(p.entries))
	for k, v := range m.All() {
		v.MoveTo(mb.AppendEmpty(k))
	}
	for i := range p.entries {
		p.entries[i].value.CopyTo(mb.AppendEmpty(p.entries[i].key))
	}
	// Adds no duplicate key: m's own keys stay as they were, the prepared
	// ones are distinct and none is in m (holdsAnyKey).
	mb.UnsafeIntoMap(m)
}
