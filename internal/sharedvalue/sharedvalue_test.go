package sharedvalue

import (
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

func scalars() map[string]pcommon.Value {
	return map[string]pcommon.Value{
		"str":    pcommon.NewValueStr("nginx"),
		"int":    pcommon.NewValueInt(-7),
		"double": pcommon.NewValueDouble(2.5),
		"bool":   pcommon.NewValueBool(true),
	}
}

// The pdata this module builds against must be the one the package knows:
// if an upgrade changes its layout, this fails rather than the fast path
// quietly turning into copies.
func TestEnabledWithPinnedPdata(t *testing.T) {
	require.True(t, layoutMatches(), "pcommon.Value no longer has the layout sharedvalue reads")
	require.False(t, gateEnabled(poolingGate))
	require.True(t, probe())
	require.True(t, Enabled())
}

func TestShareSharesScalarsWithoutAllocating(t *testing.T) {
	for name, src := range scalars() {
		t.Run(name, func(t *testing.T) {
			m := pcommon.NewMap()
			m.PutEmpty("k")
			allocs := testing.AllocsPerRun(100, func() { Of(src).CopyTo(m.PutEmpty("k")) })
			assert.Zero(t, allocs)
			got, ok := m.Get("k")
			require.True(t, ok)
			assert.True(t, got.Equal(src))
		})
	}
}

// A shared value stays what it was however the records holding it are
// changed afterwards: pdata's setters replace a value, never write into it.
func TestSharedValueIsNotChangedThroughAnotherHolder(t *testing.T) {
	for name, src := range scalars() {
		t.Run(name, func(t *testing.T) {
			want := pcommon.NewValueEmpty()
			src.CopyTo(want)
			a, b := pcommon.NewMap(), pcommon.NewMap()
			Of(src).CopyTo(a.PutEmpty("k"))
			Of(src).CopyTo(b.PutEmpty("k"))

			va, _ := a.Get("k")
			va.SetStr("changed")
			a.PutInt("k", 99)
			va.SetDouble(1)
			va.SetBool(false)
			pcommon.NewValueStr("copied over").CopyTo(va)
			vb, _ := b.Get("k")
			vb.CopyTo(va)
			a.Remove("k")

			got, _ := b.Get("k")
			assert.True(t, got.Equal(want), "b's value changed: %s", got.AsString())
			assert.True(t, src.Equal(want), "the source changed: %s", src.AsString())
		})
	}
}

func TestSharedValuesSurviveProtoRoundTrip(t *testing.T) {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	srcs := scalars()
	for range 3 {
		attrs := lrs.AppendEmpty().Attributes()
		for name, v := range srcs {
			Of(v).CopyTo(attrs.PutEmpty(name))
		}
	}
	raw, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	back, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(raw)
	require.NoError(t, err)
	back.MarkReadOnly()
	ld.MarkReadOnly()
	assert.Equal(t, ld, back)
}

func TestShareDeepCopiesMapsSlicesAndBytes(t *testing.T) {
	m := pcommon.NewValueMap()
	m.Map().PutStr("a", "1")
	s := pcommon.NewValueSlice()
	s.Slice().AppendEmpty().SetStr("x")
	b := pcommon.NewValueBytes()
	b.Bytes().FromRaw([]byte{1, 2})
	for _, src := range []pcommon.Value{m, s, b} {
		dst := pcommon.NewMap().PutEmpty("k")
		Of(src).CopyTo(dst)
		require.True(t, dst.Equal(src))
		switch dst.Type() {
		case pcommon.ValueTypeMap:
			dst.Map().PutStr("a", "changed")
		case pcommon.ValueTypeSlice:
			dst.Slice().At(0).SetStr("changed")
		case pcommon.ValueTypeBytes:
			dst.Bytes().SetAt(0, 9)
		}
		assert.False(t, dst.Equal(src), "the copy of a %s still shares its contents", src.Type())
	}
}

func TestSlotSetsMatchPlainSets(t *testing.T) {
	var sl Slot
	got, want := pcommon.NewMap(), pcommon.NewMap()
	puts := []func(m pcommon.Map, sl *Slot){
		func(m pcommon.Map, sl *Slot) { sl.SetStr(m.PutEmpty("x"), "a") },
		func(m pcommon.Map, sl *Slot) { sl.SetStr(m.PutEmpty("x"), "a") },
		func(m pcommon.Map, sl *Slot) { sl.SetStr(m.PutEmpty("y"), "a") },
		func(m pcommon.Map, sl *Slot) { sl.SetStr(m.PutEmpty("y"), "b") },
		func(m pcommon.Map, sl *Slot) { sl.SetInt(m.PutEmpty("y"), 0) },
		func(m pcommon.Map, sl *Slot) { sl.SetBool(m.PutEmpty("y"), false) },
		func(m pcommon.Map, sl *Slot) { sl.SetDouble(m.PutEmpty("y"), 0) },
		func(m pcommon.Map, sl *Slot) { sl.SetDouble(m.PutEmpty("y"), math.Copysign(0, -1)) },
		func(m pcommon.Map, sl *Slot) { sl.SetStr(m.PutEmpty("y"), "") },
		func(m pcommon.Map, sl *Slot) { sl.SetInt(m.PutEmpty("z"), 7) },
		func(m pcommon.Map, sl *Slot) { sl.SetInt(m.PutEmpty("z"), 7) },
		func(m pcommon.Map, sl *Slot) { sl.SetBool(m.PutEmpty("z"), true) },
	}
	for i, put := range puts {
		put(got, &sl)
		var plain Slot // a new Slot never shares: its set is the plain one
		put(want, &plain)
		require.Equal(t, want.AsRaw(), got.AsRaw(), "put %d", i)
		for k, v := range want.All() {
			g, _ := got.Get(k)
			require.True(t, v.Equal(g), "put %d, key %s", i, k)
		}
	}
}

func TestSlotRepeatAllocatesNothing(t *testing.T) {
	var sl Slot
	m := pcommon.NewMap()
	sl.SetStr(m.PutEmpty("k"), "run")
	assert.Zero(t, testing.AllocsPerRun(100, func() { sl.SetStr(m.PutEmpty("k"), "run") }))
	sl.SetInt(m.PutEmpty("n"), 3)
	assert.Zero(t, testing.AllocsPerRun(100, func() { sl.SetInt(m.PutEmpty("n"), 3) }))
}

// A value a Slot remembers stays as it was when the record it was made in
// is changed afterwards.
func TestSlotValueOutlivesChangesToItsRecord(t *testing.T) {
	var sl Slot
	first, second := pcommon.NewMap(), pcommon.NewMap()
	sl.SetStr(first.PutEmpty("k"), "v")
	v, _ := first.Get("k")
	v.SetStr("changed in the first record")
	first.PutInt("k", 1)
	sl.SetStr(second.PutEmpty("k"), "v")
	got, _ := second.Get("k")
	assert.Equal(t, "v", got.Str())
}

// Many goroutines share one source value while each changes its own maps.
func TestShareConcurrent(t *testing.T) {
	src := pcommon.NewValueStr("shared")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				m := pcommon.NewMap()
				Of(src).CopyTo(m.PutEmpty("k"))
				v, _ := m.Get("k")
				if v.Str() != "shared" {
					t.Error("wrong value:", v.Str())
					return
				}
				v.SetStr("mine")
			}
		})
	}
	wg.Wait()
	assert.Equal(t, "shared", src.Str())
}

func TestGateIsRead(t *testing.T) {
	reg := featuregate.GlobalRegistry()
	require.NoError(t, reg.Set(poolingGate, true))
	t.Cleanup(func() { require.NoError(t, reg.Set(poolingGate, false)) })
	assert.True(t, gateEnabled(poolingGate))
}

func BenchmarkShareStr(b *testing.B) {
	src := pcommon.NewValueStr("nginx")
	m := pcommon.NewMap()
	b.ReportAllocs()
	for b.Loop() {
		Of(src).CopyTo(m.PutEmpty("k"))
	}
}
