package externaljsonprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
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
	assert.Equal(t, int64(7), fields[2].value.Int())
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
