package sharedvalue

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Slot remembers the last scalar set through it, so that setting the same
// value again shares that value instead of making another. A receiver
// gives each field of its lines a Slot: a batch's lines mostly come from
// one program on one host, so their app name, pid, host and most
// attributes repeat line after line. The first set of a value costs what
// v.SetStr (or SetInt, ...) costs; each repeat, nothing. The zero value is
// ready; a nil *Slot sets without remembering. A Slot is used by one
// goroutine.
//
// The value set, v, must be one just added to a map the caller may change
// (Map.PutEmpty, xpdata.MapBuilder.AppendEmpty), as for Value.CopyTo.
type Slot struct {
	typ   pcommon.ValueType
	str   string
	num   uint64 // an int, a double's bits, or a bool (0 or 1)
	value Value
}

// SetStr sets v to s, as v.SetStr(s) would.
func (sl *Slot) SetStr(v pcommon.Value, s string) {
	if sl.shared(v, pcommon.ValueTypeStr, s, 0) {
		return
	}
	v.SetStr(s)
	sl.keep(v, pcommon.ValueTypeStr, s, 0)
}

// SetInt sets v to n, as v.SetInt(n) would.
func (sl *Slot) SetInt(v pcommon.Value, n int64) {
	if sl.shared(v, pcommon.ValueTypeInt, "", uint64(n)) { //nolint:gosec // G115: the int's bits, used as a key
		return
	}
	v.SetInt(n)
	sl.keep(v, pcommon.ValueTypeInt, "", uint64(n)) //nolint:gosec // G115: the int's bits, used as a key
}

// SetDouble sets v to f, as v.SetDouble(f) would.
func (sl *Slot) SetDouble(v pcommon.Value, f float64) {
	if sl.shared(v, pcommon.ValueTypeDouble, "", math.Float64bits(f)) {
		return
	}
	v.SetDouble(f)
	sl.keep(v, pcommon.ValueTypeDouble, "", math.Float64bits(f))
}

// SetBool sets v to b, as v.SetBool(b) would.
func (sl *Slot) SetBool(v pcommon.Value, b bool) {
	var n uint64
	if b {
		n = 1
	}
	if sl.shared(v, pcommon.ValueTypeBool, "", n) {
		return
	}
	v.SetBool(b)
	sl.keep(v, pcommon.ValueTypeBool, "", n)
}

// shared sets v to the remembered value if it is this one.
func (sl *Slot) shared(v pcommon.Value, typ pcommon.ValueType, s string, n uint64) bool {
	if sl == nil || sl.value.wrapper == nil || sl.typ != typ || sl.num != n || sl.str != s {
		return false
	}
	sl.value.CopyTo(v)
	return true
}

// keep remembers the wrapper of v, just set to the value described, for
// the next set. Only the wrapper: v itself belongs to a record, which may
// be changed later (that replaces v's wrapper and leaves this one as it is).
func (sl *Slot) keep(v pcommon.Value, typ pcommon.ValueType, s string, n uint64) {
	if sl == nil {
		return
	}
	*sl = Slot{typ: typ, str: s, num: n}
	if Enabled() {
		sl.value = Value{wrapper: origOf(v).value}
	}
}
