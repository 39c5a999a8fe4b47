package jsonvalue

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestAppend(t *testing.T) {
	bytesVal := pcommon.NewValueBytes()
	bytesVal.Bytes().FromRaw([]byte{0, 1, 0xff})
	mapVal := pcommon.NewValueMap()
	mapVal.Map().PutStr("k", "v\n")
	mapVal.Map().PutDouble("d", 2)
	sliceVal := pcommon.NewValueSlice()
	sliceVal.Slice().AppendEmpty().SetInt(-3)
	sliceVal.Slice().AppendEmpty()
	sliceVal.Slice().AppendEmpty().SetBool(true)

	cases := []struct {
		v                pcommon.Value
		shortest, marked string
	}{
		{pcommon.NewValueStr("a\"b"), `"a\"b"`, `"a\"b"`},
		{pcommon.NewValueInt(-42), `-42`, `-42`},
		{pcommon.NewValueDouble(1), `1`, `1.0`},
		{pcommon.NewValueDouble(0.5), `0.5`, `0.5`},
		{pcommon.NewValueDouble(1e300), `1e+300`, `1e+300`},
		{pcommon.NewValueDouble(math.NaN()), `"NaN"`, `"NaN"`},
		{pcommon.NewValueDouble(math.Inf(1)), `"+Inf"`, `"+Inf"`},
		{pcommon.NewValueDouble(math.Inf(-1)), `"-Inf"`, `"-Inf"`},
		{pcommon.NewValueBool(false), `false`, `false`},
		{bytesVal, `"AAH/"`, `"AAH/"`},
		{pcommon.NewValueEmpty(), `null`, `null`},
		{mapVal, `{"k":"v\n","d":2}`, `{"k":"v\n","d":2.0}`},
		{sliceVal, `[-3,null,true]`, `[-3,null,true]`},
	}
	for _, c := range cases {
		got := string(Append(nil, c.v, Shortest))
		assert.Equal(t, c.shortest, got, c.v.AsString())
		assert.True(t, json.Valid([]byte(got)), got)
		got = string(Append(nil, c.v, Marked))
		assert.Equal(t, c.marked, got, c.v.AsString())
		assert.True(t, json.Valid([]byte(got)), got)
	}
}

func TestAppendMapOmits(t *testing.T) {
	m := pcommon.NewMap()
	m.PutStr("drop", "x")
	m.PutInt("a", 1)
	m.PutStr("also", "y")
	m.PutInt("b", 2)
	assert.Equal(t, `{"a":1,"b":2}`, string(AppendMap(nil, m, Shortest, "drop", "also")))
	assert.JSONEq(t, `{"drop":"x","a":1,"also":"y","b":2}`, string(AppendMap(nil, m, Shortest)))
	assert.Equal(t, `{}`, string(AppendMap(nil, pcommon.NewMap(), Marked)))
}

func TestAppendDoesNotAllocate(t *testing.T) {
	m := pcommon.NewMap()
	m.PutStr("s", "v")
	m.PutDouble("d", 3)
	m.PutEmptySlice("l").AppendEmpty().SetInt(1)
	buf := make([]byte, 0, 256)
	assert.Zero(t, testing.AllocsPerRun(100, func() { buf = AppendMap(buf[:0], m, Marked, "x", "y") }))
}
