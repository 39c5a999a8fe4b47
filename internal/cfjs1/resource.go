package cfjs1

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// resourceMatcher tells whether two lines' resources are the same, for
// grouping a connection's records under one resource. It compares the
// attributes in order: lines from one sender write them in the same order,
// and pdata's Map.Equal looks every key up by scanning the other map, which
// is quadratic in the number of keys, a number the sender chooses.
// Attributes holding maps or slices are never grouped (their Equal has the
// same scan inside); a false "different" costs one more resource in the
// batch, never a wrong record. The scratch slices are kept per connection
// so that the comparison allocates nothing per line.
type resourceMatcher struct {
	keys   []string
	values []pcommon.Value
}

func (m *resourceMatcher) same(a, b pcommon.Map) bool {
	if a.Len() != b.Len() {
		return false
	}
	m.keys, m.values = m.keys[:0], m.values[:0]
	a.Range(func(k string, v pcommon.Value) bool {
		m.keys, m.values = append(m.keys, k), append(m.values, v)
		return true
	})
	same, i := true, 0
	b.Range(func(k string, v pcommon.Value) bool {
		same = k == m.keys[i] && scalarEqual(m.values[i], v)
		i++
		return same
	})
	clear(m.values) // keep no record alive through the scratch
	return same
}

// scalarEqual compares two values that are not maps or slices.
func scalarEqual(a, b pcommon.Value) bool {
	switch a.Type() {
	case pcommon.ValueTypeMap, pcommon.ValueTypeSlice:
		return false
	}
	return a.Equal(b)
}
