package ratelimitprocessor

import (
	"strconv"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

type keySource uint8

const (
	srcAttribute keySource = iota
	srcResource
	srcBody
)

type keyField struct {
	src  keySource
	name string
}

// keyReader reads a record's key from the configured fields.
type keyReader struct {
	fields       []keyField
	defaultValue string
}

func newKeyReader(c KeyConfig) keyReader {
	kr := keyReader{defaultValue: c.DefaultValue}
	for _, f := range c.Fields {
		kf := keyField{name: f.Name}
		switch f.From {
		case fromResource:
			kf.src = srcResource
		case fromBody:
			kf.src = srcBody
		}
		kr.fields = append(kr.fields, kf)
	}
	return kr
}

func (f keyField) get(res pcommon.Map, lr plog.LogRecord) (pcommon.Value, bool) {
	switch f.src {
	case srcResource:
		return res.Get(f.name)
	case srcBody:
		if b := lr.Body(); b.Type() == pcommon.ValueTypeMap {
			return b.Map().Get(f.name)
		}
		return pcommon.Value{}, false
	default:
		return lr.Attributes().Get(f.name)
	}
}

// read returns the record's key: the fields' values joined by keySep, or
// the default value when the record has none of them. The result may alias
// *buf or the record and is only valid until the next call; the common case
// (one string field) returns the attribute's own string without copying.
func (kr *keyReader) read(res pcommon.Map, lr plog.LogRecord, buf *[]byte) string {
	if len(kr.fields) == 1 {
		v, ok := kr.fields[0].get(res, lr)
		if !ok {
			return kr.defaultValue
		}
		if v.Type() == pcommon.ValueTypeStr {
			return v.Str()
		}
		*buf = appendValue((*buf)[:0], v)
		return bytesView(*buf)
	}
	b := (*buf)[:0]
	found := false
	for i, f := range kr.fields {
		if i > 0 {
			b = append(b, keySep)
		}
		if v, ok := f.get(res, lr); ok {
			found = true
			b = appendValue(b, v)
		}
	}
	*buf = b
	if !found {
		return kr.defaultValue
	}
	return bytesView(b)
}

// appendValue writes a value's text form without allocating for scalars.
func appendValue(b []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return append(b, v.Str()...)
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		return strconv.AppendFloat(b, v.Double(), 'g', -1, 64)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(b, v.Bool())
	case pcommon.ValueTypeBytes:
		return append(b, v.Bytes().AsRaw()...)
	case pcommon.ValueTypeEmpty:
		return b
	default: // maps and slices as JSON: unusual as a key, and allowed to allocate
		return append(b, v.AsString()...)
	}
}

// bytesView is a string over b without copying. The table copies it before
// keeping it (strings.Clone in lookup).
func bytesView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b)) //nolint:gosec // G103: b is not written while the string lives (see above)
}

// recordSize is what the bytes limit counts: the body's length in bytes
// (strings and bytes as they are, numbers and booleans as 8, maps and
// slices as the sum of their keys and values).
func recordSize(lr plog.LogRecord) int64 { return valueSize(lr.Body()) }

func valueSize(v pcommon.Value) int64 {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return int64(len(v.Str()))
	case pcommon.ValueTypeBytes:
		return int64(v.Bytes().Len())
	case pcommon.ValueTypeEmpty:
		return 0
	case pcommon.ValueTypeMap:
		var n int64
		for k, e := range v.Map().All() {
			n += int64(len(k)) + valueSize(e)
		}
		return n
	case pcommon.ValueTypeSlice:
		var n int64
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			n += valueSize(s.At(i))
		}
		return n
	default:
		return 8
	}
}
