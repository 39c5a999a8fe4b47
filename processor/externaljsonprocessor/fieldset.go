package externaljsonprocessor

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
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
// (copied into records) by any number of goroutines.
type field struct {
	key    string
	value  pcommon.Value // the value, of any type (kept for slices and maps)
	policy conflictPolicy
	// The scalar itself, unpacked once, so that the hot path sets it with a
	// typed setter instead of pdata's generic deep copy.
	kind pcommon.ValueType
	str  string
	num  int64
	dbl  float64
	flag bool
}

// newField prepares a field (at refresh time, not per record).
func newField(key string, v pcommon.Value, p conflictPolicy) field {
	f := field{key: key, value: v, policy: p, kind: v.Type()}
	switch f.kind {
	case pcommon.ValueTypeStr:
		f.str = v.Str()
	case pcommon.ValueTypeInt:
		f.num = v.Int()
	case pcommon.ValueTypeDouble:
		f.dbl = v.Double()
	case pcommon.ValueTypeBool:
		f.flag = v.Bool()
	}
	return f
}

// put upserts the field into m.
func (f *field) put(m pcommon.Map) {
	switch f.kind {
	case pcommon.ValueTypeStr:
		m.PutStr(f.key, f.str)
	case pcommon.ValueTypeInt:
		m.PutInt(f.key, f.num)
	case pcommon.ValueTypeDouble:
		m.PutDouble(f.key, f.dbl)
	case pcommon.ValueTypeBool:
		m.PutBool(f.key, f.flag)
	default:
		f.value.CopyTo(m.PutEmpty(f.key))
	}
}

// set overwrites v (an attribute of a record) with the field's value.
func (f *field) set(v pcommon.Value) {
	switch f.kind {
	case pcommon.ValueTypeStr:
		v.SetStr(f.str)
	case pcommon.ValueTypeInt:
		v.SetInt(f.num)
	case pcommon.ValueTypeDouble:
		v.SetDouble(f.dbl)
	case pcommon.ValueTypeBool:
		v.SetBool(f.flag)
	default:
		f.value.CopyTo(v)
	}
}

// fieldSet is what the hot path applies. It is immutable once published
// through processor.current.
type fieldSet struct {
	record   []field
	resource []field
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
