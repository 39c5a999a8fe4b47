package cfjs1

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/xpdata"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

func TestResourceMatcher(t *testing.T) {
	build := func(kv ...any) pcommon.Map {
		m := pcommon.NewMap()
		for i := 0; i < len(kv); i += 2 {
			switch v := kv[i+1].(type) {
			case string:
				m.PutStr(kv[i].(string), v)
			case int:
				m.PutInt(kv[i].(string), int64(v))
			case []string:
				s := m.PutEmptySlice(kv[i].(string))
				for _, e := range v {
					s.AppendEmpty().SetStr(e)
				}
			}
		}
		return m
	}
	var m resourceMatcher
	assert.True(t, m.same(build(), build()))
	assert.True(t, m.same(build("host", "a", "pid", 1), build("host", "a", "pid", 1)))
	assert.False(t, m.same(build("host", "a"), build("host", "b")))
	assert.False(t, m.same(build("host", "a"), build("host", "a", "pid", 1)))
	assert.False(t, m.same(build("pid", 1), build("pid", "1")), "types differ")
	// Same attributes in another order, and composite values: reported as
	// different, which only costs a resource of its own.
	assert.False(t, m.same(build("host", "a", "pid", 1), build("pid", 1, "host", "a")))
	assert.False(t, m.same(build("tags", []string{"x"}), build("tags", []string{"x"})))
}

// Two lines whose resources hold many keys are compared in time linear in
// the keys: pdata's Map.Equal took quadratic time here.
func TestResourceMatcherCostLinear(t *testing.T) {
	build := func(n int) pcommon.Map {
		m := pcommon.NewMap()
		var b xpdata.MapBuilder
		for i := range n {
			b.AppendEmpty("k" + strconv.Itoa(i)).SetInt(int64(i))
		}
		b.UnsafeIntoMap(m)
		return m
	}
	var m resourceMatcher
	cost := func(n int) float64 {
		a, b := build(n), build(n)
		best := testutil.MeasureThreadCPU(func() { assert.True(t, m.same(a, b)) })
		for range 4 {
			best = min(best, testutil.MeasureThreadCPU(func() { m.same(a, b) }))
		}
		return float64(best) / float64(n)
	}
	small, large := cost(2000), cost(40000)
	// 20 times the keys: linear code costs about the same per key, the
	// quadratic scan about 20 times more.
	assert.Less(t, large/small, 5.0, "per key: %.1f ns at 2000 keys, %.1f ns at 40000", small, large)
}
