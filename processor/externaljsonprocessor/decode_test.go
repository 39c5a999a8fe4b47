package externaljsonprocessor

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decodedRaw(t *testing.T, fields []field) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, f := range fields {
		out[f.key] = f.value.Source().AsRaw()
	}
	return out
}

func TestDecodeWholeObjectFlattened(t *testing.T) {
	m := newMapping(MappingConfig{Prefix: "x.", MaxFields: 10}, "")
	fields, _, ferr := m.decode([]byte(`{"b":{"c":1,"d":[1,"two",2.5,{"e":null}]},"a":"s","n":null,"f":1.5,"big":12345678901234567890,"t":false}`))
	require.Nil(t, ferr)
	assert.Equal(t, map[string]any{
		"x.a":   "s",
		"x.b.c": int64(1),
		"x.b.d": []any{int64(1), "two", 2.5, map[string]any{"e": nil}},
		"x.f":   1.5,
		"x.big": 1.2345678901234567e19, // past int64: a double
		"x.t":   false,
	}, decodedRaw(t, fields))
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	assert.Equal(t, []string{"x.a", "x.b.c", "x.b.d", "x.big", "x.f", "x.t"}, keys, "key order is stable")
}

func TestDecodeChosenPaths(t *testing.T) {
	m := newMapping(MappingConfig{Prefix: "dc.", OnConflict: "insert", MaxFields: 10, Fields: []FieldConfig{
		{Path: "status.traffic", Key: "traffic"},
		{Path: "name", OnConflict: "update"},
		{Path: "meta"},
		{Path: "absent.path"},
		{Path: "name.sub"}, // name is a string: no such path
	}}, "")
	fields, _, ferr := m.decode([]byte(`{"status":{"traffic":"on","other":1},"name":"ams","meta":{"a":1,"b":{"c":"d"}},"ignored":true}`))
	require.Nil(t, ferr)
	assert.Equal(t, map[string]any{"dc.traffic": "on", "dc.name": "ams", "dc.meta.a": int64(1), "dc.meta.b.c": "d"}, decodedRaw(t, fields))
	for _, f := range fields {
		if f.key == "dc.name" {
			assert.Equal(t, policyUpdate, f.policy)
		} else {
			assert.Equal(t, policyInsert, f.policy, f.key)
		}
	}
}

func TestDecodeRefusals(t *testing.T) {
	m := newMapping(MappingConfig{MaxFields: 3}, "")
	for _, tc := range []struct{ in, reason, msg string }{
		{``, reasonInvalidJSON, "invalid JSON: EOF"},
		{`{"a":`, reasonInvalidJSON, "invalid JSON"},
		{`{"a":1}}`, reasonInvalidJSON, "data after the object"},
		{`{"a":1} x`, reasonInvalidJSON, "data after the object"},
		{`"up"`, reasonNotObject, "is a string, not an object"},
		{`[{"a":1}]`, reasonNotObject, "is a array, not an object"},
		{`null`, reasonNotObject, "is a null"},
		{`42`, reasonNotObject, "is a number"},
		{`{}`, reasonNoFields, "yields no fields"},
		{`{"a":null}`, reasonNoFields, "yields no fields"},
		{`{"a":1,"b":2,"c":3,"d":4}`, reasonTooManyFields, "more than max_fields (3)"},
		{`{"a":{"b":{"c":1,"d":2}},"e":{"f":3,"g":4}}`, reasonTooManyFields, "more than max_fields (3)"},
	} {
		_, _, ferr := m.decode([]byte(tc.in))
		require.NotNil(t, ferr, tc.in)
		assert.Equal(t, tc.reason, ferr.reason, tc.in)
		assert.Contains(t, ferr.Error(), tc.msg, tc.in)
	}
	_, _, ferr := newMapping(MappingConfig{MaxFields: 3, Fields: []FieldConfig{{Path: "x"}}}, "").decode([]byte(`{"y":1}`))
	require.NotNil(t, ferr)
	assert.Equal(t, reasonNoFields, ferr.reason, "none of the chosen paths present")
}

func TestDecodeTextKey(t *testing.T) {
	m := newMapping(MappingConfig{Prefix: "u.", MaxFields: 1}, "state")
	fields, _, ferr := m.decode([]byte("  active\n"))
	require.Nil(t, ferr)
	assert.Equal(t, map[string]any{"u.state": "active"}, decodedRaw(t, fields))
	for _, in := range []string{"", " \n\t", "\xff\xfe"} {
		_, _, ferr = m.decode([]byte(in))
		require.NotNil(t, ferr, "%q", in)
		assert.Equal(t, reasonInvalidText, ferr.reason)
	}
}

// FuzzDecode: whatever a source returns, decode either refuses it with a
// known reason or yields between 1 and max_fields fields. It never panics.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"status":"up"}`, `{"a":{"b":{"c":[1,2,{"d":null}]}}}`, `{"n":1e400}`, `{"n":-0.0}`,
		`[]`, `"x"`, `{`, `{"a":1}{`, `{"\u0000":"\ud800"}`, strings.Repeat(`{"a":`, 50), "",
		`{"big":123456789012345678901234567890}`, `{"logx":{"service":"x"},"cfjs1.format":"y","a":1}`, `{"a":"` + strings.Repeat("x", 100) + `"}`,
	} {
		f.Add([]byte(seed), false)
	}
	f.Add([]byte("active\n"), true)
	known := map[string]bool{reasonInvalidJSON: true, reasonNotObject: true, reasonTooManyFields: true, reasonNoFields: true, reasonInvalidText: true}
	f.Fuzz(func(t *testing.T, data []byte, text bool) {
		textKey := ""
		if text {
			textKey = "v"
		}
		m := newMapping(MappingConfig{Prefix: "p.", MaxFields: 8}, textKey)
		fields, _, ferr := m.decode(data)
		if ferr != nil {
			if !known[ferr.reason] {
				t.Fatalf("unknown reason %q", ferr.reason)
			}
			return
		}
		if len(fields) == 0 || len(fields) > 8 {
			t.Fatalf("%d fields", len(fields))
		}
		for _, fl := range fields {
			if !strings.HasPrefix(fl.key, "p.") {
				t.Fatalf("key %q without prefix", fl.key)
			}
		}
		// Without a prefix the object names the attributes: never a reserved one.
		bare, _, _ := newMapping(MappingConfig{MaxFields: 8}, "").decode(data)
		for _, fl := range bare {
			if isReserved(fl.key) {
				t.Fatalf("reserved key %q written", fl.key)
			}
		}
	})
}
