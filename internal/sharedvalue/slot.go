package sharedvalue

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Slot remembers the last scalar put through it, so that putting the same
// key and value again shares that value instead of making another. A
// receiver gives each field of its lines a Slot: a batch's lines mostly
// come from one program on one host, so their app name, pid, host and most
// attributes repeat line after line. The first put of a value costs what
// m.PutStr (or PutInt, ...) costs; each repeat, nothing. The zero value is
// ready; a nil *Slot puts without remembering. A Slot is used by one
// goroutine.
type Slot struct {
	key   string
	typ   pcommon.ValueType
	str   string
	num   uint64 // an int, a double's bits, or a bool (0 or 1)
	value Value
}

// PutStr sets key to s in m, as m.PutStr(key, s) would.
func (sl *Slot) PutStr(m pcommon.Map, key, s string) {
	if v, made := sl.put(m, key, pcommon.ValueTypeStr, s, 0); made {
		v.SetStr(s)
		sl.keep(v)
	}
}

// PutInt sets key to n in m, as m.PutInt(key, n) would.
func (sl *Slot) PutInt(m pcommon.Map, key string, n int64) {
	if v, made := sl.put(m, key, pcommon.ValueTypeInt, "", uint64(n)); made {
		v.SetInt(n)
		sl.keep(v)
	}
}

// PutDouble sets key to f in m, as m.PutDouble(key, f) would.
func (sl *Slot) PutDouble(m pcommon.Map, key string, f float64) {
	if v, made := sl.put(m, key, pcommon.ValueTypeDouble, "", math.Float64bits(f)); made {
		v.SetDouble(f)
		sl.keep(v)
	}
}

// PutBool sets key to b in m, as m.PutBool(key, b) would.
func (sl *Slot) PutBool(m pcommon.Map, key string, b bool) {
	var n uint64
	if b {
		n = 1
	}
	if v, made := sl.put(m, key, pcommon.ValueTypeBool, "", n); made {
		v.SetBool(b)
		sl.keep(v)
	}
}

// put shares the remembered value into m under key if it is this one
// (made false). Otherwise it returns key's new empty value (made true) for
// the caller to set and then keep, and notes what the value will be.
func (sl *Slot) put(m pcommon.Map, key string, typ pcommon.ValueType, s string, n uint64) (v pcommon.Value, made bool) {
	if sl == nil {
		return m.PutEmpty(key), true
	}
	if sl.value.wrapper != nil && sl.typ == typ && sl.num == n && sl.key == key && sl.str == s {
		sl.value.CopyTo(m.PutEmpty(key))
		return pcommon.Value{}, false
	}
	*sl = Slot{key: key, typ: typ, str: s, num: n}
	return m.PutEmpty(key), true
}

// keep remembers the wrapper of v, just set as put noted, for the next put.
// Only the wrapper: v itself belongs to a record, which may be changed
// later (that replaces v's wrapper and leaves this one as it is).
func (sl *Slot) keep(v pcommon.Value) {
	if sl != nil && Enabled() {
		sl.value = Value{wrapper: origOf(v).value}
	}
}
