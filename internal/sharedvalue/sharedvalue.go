package sharedvalue

import (
	"reflect"
	"sync"
	"unsafe"

	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// poolingGate is pdata's gate that recycles value wrappers (see doc.go).
const poolingGate = "pdata.useProtoPooling"

// valueLayout mirrors pcommon.Value (pdata's internal ValueWrapper: a
// pointer to the proto AnyValue and one to the ownership state), and
// anyValueLayout mirrors that AnyValue (one interface holding the oneof
// wrapper). layoutMatches checks both against pdata before any use.
type valueLayout struct {
	orig  *anyValueLayout
	state unsafe.Pointer
}

type anyValueLayout struct {
	value any
}

// Enabled reports whether values are shared: pdata's layout is the one
// this package knows and the pooling gate is off. It is worked out once, on
// first use, which is after the command line set the feature gates (no
// component calls this package from init).
var Enabled = sync.OnceValue(func() bool {
	return layoutMatches() && !gateEnabled(poolingGate) && probe()
})

// Value is a value prepared for sharing: the checks are made once, in Of,
// for a caller that puts the same value into many records.
type Value struct {
	src pcommon.Value
	// wrapper is src's pdata wrapper when it can be shared, else nil.
	wrapper any
}

// Of prepares src for sharing. src must not be changed afterwards.
func Of(src pcommon.Value) Value {
	switch src.Type() {
	case pcommon.ValueTypeStr, pcommon.ValueTypeInt, pcommon.ValueTypeDouble, pcommon.ValueTypeBool:
		if Enabled() {
			return Value{src: src, wrapper: origOf(src).value}
		}
	}
	return Value{src: src}
}

// Source returns the value given to Of, which must not be changed.
func (v Value) Source() pcommon.Value { return v.src }

// CopyTo makes dst hold the value. A scalar shares the storage of the value
// given to Of (no allocation) when Enabled; anything else, or any value
// when not Enabled, is copied as src.CopyTo(dst) would. dst must be a value
// just added to a map the caller may change (Map.PutEmpty,
// xpdata.MapBuilder.AppendEmpty), or one of such a map's values: those
// calls have already checked that it is writable.
func (v Value) CopyTo(dst pcommon.Value) {
	if v.wrapper != nil {
		origOf(dst).value = v.wrapper
		return
	}
	v.src.CopyTo(dst)
}

func origOf(v pcommon.Value) *anyValueLayout {
	return (*valueLayout)(unsafe.Pointer(&v)).orig //nolint:gosec // G103: reads pdata's layout, checked by the package's tests
}

// layoutMatches checks, by reflection, that pcommon.Value is a struct whose
// first field points to a struct with one interface field, as
// valueLayout and anyValueLayout say.
func layoutMatches() bool {
	vt := reflect.TypeFor[pcommon.Value]()
	if vt.Kind() != reflect.Struct || vt.Size() != unsafe.Sizeof(valueLayout{}) || vt.NumField() != 2 {
		return false
	}
	orig, state := vt.Field(0), vt.Field(1)
	if orig.Offset != 0 || orig.Type.Kind() != reflect.Pointer || state.Type.Kind() != reflect.Pointer {
		return false
	}
	av := orig.Type.Elem()
	return av.Kind() == reflect.Struct && av.Name() == "AnyValue" &&
		av.Size() == unsafe.Sizeof(anyValueLayout{}) && av.NumField() == 1 &&
		av.Field(0).Type.Kind() == reflect.Interface && av.Field(0).Type.NumMethod() == 0
}

// probe shares one value of each scalar type and reads it back through
// pdata's own API.
func probe() bool {
	for _, src := range []pcommon.Value{
		pcommon.NewValueStr("probe"), pcommon.NewValueInt(-42),
		pcommon.NewValueDouble(0.5), pcommon.NewValueBool(true),
	} {
		w := origOf(src).value
		if w == nil || reflect.TypeOf(w).Kind() != reflect.Pointer {
			return false
		}
		dst := pcommon.NewValueEmpty()
		origOf(dst).value = w
		if !dst.Equal(src) || dst.AsString() != src.AsString() {
			return false
		}
	}
	return true
}

func gateEnabled(id string) bool {
	on := false
	featuregate.GlobalRegistry().VisitAll(func(g *featuregate.Gate) {
		if g.ID() == id {
			on = g.IsEnabled()
		}
	})
	return on
}
