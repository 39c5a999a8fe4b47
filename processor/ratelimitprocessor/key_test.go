package ratelimitprocessor

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

func TestKeyReaderValueTypes(t *testing.T) {
	kr := newKeyReader(KeyConfig{Fields: []FieldConfig{{From: fromAttribute, Name: "k"}}, DefaultValue: "dflt"})
	res := pcommon.NewMap()
	var buf []byte
	lr := plog.NewLogRecord()
	assert.Equal(t, "dflt", kr.read(res, lr, &buf))
	cases := []struct {
		set  func(m pcommon.Map)
		want string
	}{
		{func(m pcommon.Map) { m.PutStr("k", "nginx") }, "nginx"},
		{func(m pcommon.Map) { m.PutInt("k", -42) }, "-42"},
		{func(m pcommon.Map) { m.PutDouble("k", 1.5) }, "1.5"},
		{func(m pcommon.Map) { m.PutBool("k", true) }, "true"},
		{func(m pcommon.Map) { m.PutEmptyBytes("k").FromRaw([]byte("raw")) }, "raw"},
		{func(m pcommon.Map) { m.PutEmpty("k") }, ""},
		{func(m pcommon.Map) { m.PutEmptySlice("k").AppendEmpty().SetStr("x") }, `["x"]`},
	}
	for _, c := range cases {
		lr := plog.NewLogRecord()
		c.set(lr.Attributes())
		assert.Equal(t, c.want, kr.read(res, lr, &buf))
	}
}

func TestRecordSize(t *testing.T) {
	lr := plog.NewLogRecord()
	lr.Body().SetStr("hello")
	assert.EqualValues(t, 5, recordSize(lr))
	m := lr.Body().SetEmptyMap()
	m.PutStr("ab", "cde")
	m.PutInt("n", 1)
	m.PutEmptySlice("s").AppendEmpty().SetStr("xy")
	assert.EqualValues(t, 2+3+1+8+1+2, recordSize(lr))
}

// FuzzKeyRead feeds arbitrary field values and checks that the key read
// never panics, is stable, and that distinct one-field string keys stay
// distinct in the table.
func FuzzKeyRead(f *testing.F) {
	f.Add("nginx.service", "h1", int64(3), true)
	f.Add("", "", int64(0), false)
	f.Add("a\x00b", strings.Repeat("x", 100), int64(-1), true)
	f.Fuzz(func(t *testing.T, svc, host string, n int64, useInt bool) {
		kr := newKeyReader(KeyConfig{Fields: []FieldConfig{{From: fromResource, Name: "host"}, {From: fromAttribute, Name: "svc"}}, DefaultValue: "d"})
		res := pcommon.NewMap()
		res.PutStr("host", host)
		lr := plog.NewLogRecord()
		if useInt {
			lr.Attributes().PutInt("svc", n)
		} else {
			lr.Attributes().PutStr("svc", svc)
		}
		var buf []byte
		k1 := strings.Clone(kr.read(res, lr, &buf))
		k2 := kr.read(res, lr, &buf)
		if k1 != k2 {
			t.Fatalf("unstable key %q vs %q", k1, k2)
		}
		if !strings.HasPrefix(k1, host+string(keySep)) {
			t.Fatalf("key %q does not start with the host", k1)
		}
		tb := newTable(4, newLimitSet(defaultConfig()), 0)
		s, i, _ := tb.lookup(k1, 0)
		s.mu.Unlock()
		s2, i2, _ := tb.lookup(k2, 0)
		s2.mu.Unlock()
		if s != s2 || i != i2 {
			t.Fatal("the same key found two entries")
		}
		s3, i3, _ := tb.lookup(k1+"x", 0)
		s3.mu.Unlock()
		if s3 == s && i3 == i {
			t.Fatal("distinct keys share an entry")
		}
		if got := s.keyAt(i); got != k1 {
			t.Fatalf("entry holds key %q, want %q", got, k1)
		}
	})
}
