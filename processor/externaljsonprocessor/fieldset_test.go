package externaljsonprocessor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/xpdata"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

func TestApplyConflictPolicies(t *testing.T) {
	fields := []field{
		newField("ins", newValue("new"), policyInsert),
		newField("upd", newValue("new"), policyUpdate),
		newField("ups", newValue(int64(7)), policyUpsert),
		newField("list", newValue([]any{"a", int64(1)}), policyUpsert),
		newField("d", newValue(0.5), policyInsert),
		newField("b", newValue(true), policyUpdate),
	}
	for _, tc := range []struct {
		name     string
		in, want map[string]any
	}{
		{"absent", map[string]any{"x": 1}, map[string]any{"x": int64(1), "ins": "new", "ups": int64(7), "list": []any{"a", int64(1)}, "d": 0.5}},
		{"present", map[string]any{"ins": "old", "upd": "old", "ups": "old", "list": "old", "d": "old", "b": "old"},
			map[string]any{"ins": "old", "upd": "new", "ups": int64(7), "list": []any{"a", int64(1)}, "d": "old", "b": true}},
	} {
		m := pcommon.NewMap()
		require.NoError(t, m.FromRaw(tc.in))
		apply(m, fields)
		assert.Equal(t, tc.want, m.AsRaw(), tc.name)
	}
	// The prepared values are copied, never shared with the record.
	m := pcommon.NewMap()
	apply(m, fields)
	v, _ := m.Get("ups")
	v.SetInt(99)
	assert.Equal(t, int64(7), fields[2].value.Source().Int())
}

func TestResourceAndRecordTargetsTogether(t *testing.T) {
	srvA := newStatusServer(t, `{"dc":"ams"}`)
	srvB := newStatusServer(t, `{"unit":"active","dc":"from-b"}`)
	a := httpSource("a", srvA.URL)
	a.Mapping.Target = targetResource
	b := httpSource("b", srvB.URL)
	b.Mapping.OnConflict = "insert"
	h := newHarness(t, &Config{Sources: []SourceConfig{a, b}, StartupWait: 5 * time.Second})
	h.start(t)
	rec, res := h.enrich(t, map[string]any{"unit": "mine"})
	assert.Equal(t, map[string]any{"dc": "ams"}, res)
	assert.Equal(t, map[string]any{"unit": "mine", "dc": "from-b"}, rec, "insert keeps the record's own unit")
}

// entries lists a map's keys and values in order, so that comparisons also
// catch a change of attribute order.
func entries(m pcommon.Map) []any {
	var out []any
	for k, v := range m.All() {
		out = append(out, k, v.AsRaw())
	}
	return out
}

// prepTestFields has a key given three times, an update field for an absent
// key, a nested map, a slice and a key longer than 64 bytes.
func prepTestFields() []field {
	nested := pcommon.NewValueMap()
	nested.Map().PutStr("inner", "x")
	return []field{
		newField("a", newValue("first"), policyInsert),
		newField("b", newValue(int64(1)), policyUpdate), // absent: skipped
		newField("a", newValue("second"), policyUpsert), // same key again: wins
		newField("a", newValue("third"), policyInsert),  // present by now: skipped
		newField("c", newValue(0.25), policyUpsert),
		newField("b", newValue(true), policyUpsert),
		newField("c", newValue(false), policyUpdate), // present by now: updated
		newField("m", nested, policyUpsert),
		newField("s", newValue([]any{"x", int64(2)}), policyInsert),
		newField(strings.Repeat("L", 70), newValue("long"), policyInsert),
		newField("ext.only_if_there", newValue("upd"), policyUpdate),
	}
}

// TestApplyPreparedMatchesApply: whatever attributes a map starts with, the
// prepared path leaves it exactly as apply does: values, order, duplicate
// keys resolved the same way, every policy.
func TestApplyPreparedMatchesApply(t *testing.T) {
	fields := prepTestFields()
	fs := newFieldSet(fields, nil)
	require.NotNil(t, fs.recordPrep)
	long := strings.Repeat("L", 70)
	longOther := strings.Repeat("L", 69) + "M"
	for _, tc := range []struct {
		name     string
		own      func(m pcommon.Map)
		conflict bool
	}{
		{"no attributes", func(pcommon.Map) {}, false},
		{"no attributes, spare capacity", func(m pcommon.Map) { m.EnsureCapacity(32) }, false},
		{"own attributes, no shared key", func(m pcommon.Map) {
			m.PutStr("logx.service", "nginx")
			m.PutInt("z", 3) // same length as the field keys a, b, c
			m.PutEmptyMap("own.map").PutStr("k", "v")
			m.PutEmptyBytes("own.bytes").FromRaw([]byte{1, 2})
			m.PutStr(longOther, "same length as a field key")
		}, false},
		{"own duplicate keys kept as they are", func(m pcommon.Map) {
			// A map decoded from the wire can hold a key twice.
			var b xpdata.MapBuilder
			b.AppendEmpty("d").SetStr("1")
			b.AppendEmpty("d").SetStr("2")
			b.UnsafeIntoMap(m)
		}, false},
		{"insert key present", func(m pcommon.Map) { m.PutStr("x", "own"); m.PutStr("a", "own") }, true},
		{"update key present", func(m pcommon.Map) { m.PutStr("ext.only_if_there", "own") }, true},
		{"upsert key present", func(m pcommon.Map) { m.PutStr("m", "own") }, true},
		{"long key present", func(m pcommon.Map) { m.PutStr(long, "own") }, true},
	} {
		want, got := pcommon.NewMap(), pcommon.NewMap()
		tc.own(want)
		tc.own(got)
		assert.Equal(t, tc.conflict, fs.recordPrep.holdsAnyKey(got), tc.name)
		apply(want, fields)
		var mb xpdata.MapBuilder
		applyPrepared(got, fields, fs.recordPrep, &mb)
		assert.Equal(t, entries(want), entries(got), tc.name)
	}

	// The order the fast path must give: own attributes, then the fields.
	got := pcommon.NewMap()
	got.PutStr("own", "1")
	var mb xpdata.MapBuilder
	applyPrepared(got, fields, fs.recordPrep, &mb)
	assert.Equal(t, []any{"own", "1", "a", "second", "c", false, "b", true,
		"m", map[string]any{"inner": "x"}, "s", []any{"x", int64(2)}, long, "long"}, entries(got))

	// Only update fields: nothing to add to a map that lacks them.
	onlyUpdate := []field{newField("u", newValue("v"), policyUpdate)}
	got = pcommon.NewMap()
	got.PutStr("own", "1")
	applyPrepared(got, onlyUpdate, prepareFields(onlyUpdate), &mb)
	assert.Equal(t, []any{"own", "1"}, entries(got))
	assert.Nil(t, prepareFields(nil))
}

// TestApplyPreparedCopiesValues: records get the fields' values (scalars
// shared, maps deep-copied); changing one (also inside a nested map)
// changes neither the prepared set nor another record. The record's own
// values are moved intact.
func TestApplyPreparedCopiesValues(t *testing.T) {
	nested := pcommon.NewValueMap()
	nested.Map().PutStr("inner", "x")
	fields := []field{newField("k", newValue("v"), policyUpsert), newField("m", nested, policyUpsert)}
	fs := newFieldSet(fields, nil)
	var mb xpdata.MapBuilder
	r1, r2 := pcommon.NewMap(), pcommon.NewMap()
	r1.PutEmptyMap("own").PutStr("deep", "y")
	applyPrepared(r1, fields, fs.recordPrep, &mb)
	applyPrepared(r2, fields, fs.recordPrep, &mb)
	assert.Equal(t, []any{"own", map[string]any{"deep": "y"}, "k", "v", "m", map[string]any{"inner": "x"}}, entries(r1))
	v, _ := r1.Get("k")
	v.SetStr("changed")
	m, _ := r1.Get("m")
	m.Map().PutStr("inner", "changed")
	r1.PutStr("extra", "1")
	assert.Equal(t, []any{"k", "v", "m", map[string]any{"inner": "x"}}, entries(fs.recordPrep.onEmpty))
	assert.Equal(t, []any{"k", "v", "m", map[string]any{"inner": "x"}}, entries(r2))
}

// TestApplyPreparedConcurrent: many goroutines copy from one prepared set at
// once (run with -race: the prepared map is only read).
func TestApplyPreparedConcurrent(t *testing.T) {
	fields := []field{newField("k", newValue("v"), policyUpsert), newField("n", newValue(int64(3)), policyInsert)}
	fs := newFieldSet(fields, nil)
	const workers, perWorker = 4, 200
	results := make(chan []any, workers)
	for w := range workers {
		go func() {
			var mb xpdata.MapBuilder
			var last []any
			for range perWorker {
				m := pcommon.NewMap()
				if w%2 == 1 {
					m.PutStr("own", "1")
				}
				applyPrepared(m, fields, fs.recordPrep, &mb)
				last = entries(m)
			}
			results <- last
		}()
	}
	for range workers {
		got := <-results
		if len(got) == 6 {
			assert.Equal(t, []any{"own", "1", "k", "v", "n", int64(3)}, got)
		} else {
			assert.Equal(t, []any{"k", "v", "n", int64(3)}, got)
		}
	}
}

// TestProcessLogsPreparedMatchesApply: a batch mixing records that take each
// path comes out as apply alone would leave it.
func TestProcessLogsPreparedMatchesApply(t *testing.T) {
	fields := prepTestFields()
	build := func() plog.Logs {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("host.name", "h1")
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := range 6 {
			a := lrs.AppendEmpty().Attributes()
			switch i % 3 {
			case 1:
				a.PutStr("own", "x")
			case 2:
				a.PutStr("own", "x")
				a.PutStr("a", "mine")
			}
		}
		return ld
	}
	e := &enricher{}
	e.current.Store(newFieldSet(fields, fields))
	got, err := e.processLogs(context.Background(), build())
	require.NoError(t, err)
	want := build()
	rl := want.ResourceLogs().At(0)
	apply(rl.Resource().Attributes(), fields)
	wantRecs := testutil.LogRecords([]plog.Logs{want})
	for _, lr := range wantRecs {
		apply(lr.Attributes(), fields)
	}
	assert.Equal(t, entries(rl.Resource().Attributes()), entries(got.ResourceLogs().At(0).Resource().Attributes()))
	gotRecs := testutil.LogRecords([]plog.Logs{got})
	require.Len(t, gotRecs, len(wantRecs))
	for k, lr := range wantRecs {
		assert.Equal(t, entries(lr.Attributes()), entries(gotRecs[k].Attributes()), "record %d", k)
	}
}

// TestApplyPreparedAllocations: the bar is no allocation beyond the fields
// themselves. The record's attribute slice must grow once to take them;
// the values are shared with the prepared set (sharedvalue), so that is all.
func TestApplyPreparedAllocations(t *testing.T) {
	fs := benchFieldSet(policyUpsert)
	const runs = 100
	records := make([]pcommon.Map, 0, runs+1)
	for range runs + 1 {
		m := pcommon.NewMap()
		m.PutStr("logx.service", "nginx")
		m.PutStr("syslog.appname", "nginx")
		m.PutInt("syslog.facility", 3)
		m.PutStr("syslog.procid", "1234")
		records = append(records, m)
	}
	var mb xpdata.MapBuilder
	next := 0
	allocs := testing.AllocsPerRun(runs, func() {
		applyPrepared(records[next], fs.record, fs.recordPrep, &mb)
		next++
	})
	assert.Equal(t, float64(1), allocs, "one slice growth per record, no allocation per value")
	assert.Equal(t, 4+benchFields, records[0].Len())
}

// FuzzApplyPreparedMatchesApply: for any record attributes and field list
// (keys from a small alphabet so that they collide often, every policy),
// applyPrepared leaves the map exactly as apply does, order included.
func FuzzApplyPreparedMatchesApply(f *testing.F) {
	f.Add([]byte{2, 'a', 'b', 0, 'a', 1, 'c', 2, 'b'})
	f.Add([]byte{0, 0, 'x', 0, 'x', 1, 'x'})
	f.Add([]byte{3, 'k', 'k', 'q', 2, 'k', 2, 'z', 0, 'q'})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || len(in) > 64 {
			return
		}
		// Keys: one or two letters of "abkqxz", some 65 bytes long.
		key := func(b byte) string {
			k := string("abkqxz"[int(b)%6])
			switch b % 7 {
			case 5:
				k += "y"
			case 6:
				k = strings.Repeat(k, 65)
			}
			return k
		}
		nOwn := int(in[0]) % 8
		in = in[1:]
		var own []string
		for i := 0; i < nOwn && len(in) > 0; i++ {
			own = append(own, key(in[0]))
			in = in[1:]
		}
		var fields []field
		for len(in) >= 2 {
			pol := conflictPolicy(in[0] % 3)
			k := key(in[1])
			fields = append(fields, newField(k, newValue(int64(len(fields))), pol))
			in = in[2:]
		}
		build := func() pcommon.Map {
			var b xpdata.MapBuilder // own keys as they come, duplicates too
			for i, k := range own {
				b.AppendEmpty(k).SetStr(strings.Repeat("o", i+1))
			}
			m := pcommon.NewMap()
			b.UnsafeIntoMap(m)
			return m
		}
		want, got := build(), build()
		apply(want, fields)
		var mb xpdata.MapBuilder
		applyPrepared(got, fields, prepareFields(fields), &mb)
		require.Equal(t, entries(want), entries(got))
	})
}
