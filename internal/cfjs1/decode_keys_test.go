package cfjs1

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// member is one key and value of a generated object, in line order.
type member struct {
	key string
	val int64
	sub []member // a nested map, when not nil
}

func randomMembers(rng *rand.Rand, n, keys, depth int) []member {
	ms := make([]member, n)
	for i := range ms {
		ms[i] = member{key: fmt.Sprintf("k%d", rng.IntN(keys)), val: int64(i)}
		if depth > 0 && rng.IntN(8) == 0 {
			ms[i].sub = randomMembers(rng, rng.IntN(min(3*keys, 40)), keys, depth-1)
			if ms[i].sub == nil {
				ms[i].sub = []member{}
			}
		}
	}
	return ms
}

func objectJSON(ms []member) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		if m.sub != nil {
			parts[i] = fmt.Sprintf("%q:%s", m.key, objectJSON(m.sub))
		} else {
			parts[i] = fmt.Sprintf("%q:%d", m.key, m.val)
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// putAll is the reference: members put one by one with pdata's PutEmpty.
func putAll(dst pcommon.Map, ms []member) {
	for _, m := range ms {
		v := dst.PutEmpty(m.key)
		if m.sub != nil {
			putAll(v.SetEmptyMap(), m.sub)
		} else {
			v.SetInt(m.val)
		}
	}
}

// sameInOrder fails unless a and b have the same keys in the same order
// with the same values, at every depth.
func sameInOrder(t *testing.T, want, got pcommon.Map, line string) {
	t.Helper()
	type kv struct {
		k string
		v pcommon.Value
	}
	var w, g []kv
	for k, v := range want.All() {
		w = append(w, kv{k, v})
	}
	for k, v := range got.All() {
		g = append(g, kv{k, v})
	}
	require.Len(t, g, len(w), "%.300s", line)
	for i := range w {
		require.Equal(t, w[i].k, g[i].k, "member %d of %.300s", i, line)
		require.Equal(t, w[i].v.Type(), g[i].v.Type(), "member %q of %.300s", w[i].k, line)
		if w[i].v.Type() == pcommon.ValueTypeMap {
			sameInOrder(t, w[i].v.Map(), g[i].v.Map(), line)
		} else {
			require.True(t, w[i].v.Equal(g[i].v), "member %q of %.300s", w[i].k, line)
		}
	}
}

// Repeated keys, found in linear time, give what putting the members one
// by one with PutEmpty gives (first place, last value), in maps of every
// size, at every depth, across the several objects that fill the record's
// attributes and resource, and merged into maps that have members already.
func TestDecodeRepeatsMatchPutEmpty(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 60 {
		keys := 1 + rng.IntN([]int{4, 30, 300}[round%3])
		extra := randomMembers(rng, rng.IntN(2*keys), keys, 0)
		attrs1 := randomMembers(rng, rng.IntN(3*keys), keys, 3)
		attrs2 := randomMembers(rng, rng.IntN(3*keys), keys, 3)
		res1 := randomMembers(rng, rng.IntN(3*keys), keys, 2)
		res2 := randomMembers(rng, rng.IntN(3*keys), keys, 2)
		var b strings.Builder
		b.WriteString(`{"format":"f","f":{`)
		for _, m := range extra {
			fmt.Fprintf(&b, "%q:%d,", "x"+m.key, m.val)
		}
		fmt.Fprintf(&b, `"attributes":%s,"resource":%s,"attributes":%s,"resource":%s}}`, objectJSON(attrs1), objectJSON(res1), objectJSON(attrs2), objectJSON(res2))
		line := b.String()

		// Into empty maps, and into maps with members the line repeats.
		for _, had := range []int{0, 3, 60} {
			want, got := newFixture(), newFixture()
			before := randomMembers(rng, had, keys, 0)
			putAll(want.rec.Attributes(), before)
			putAll(got.rec.Attributes(), before)
			putAll(want.res.Attributes(), before)
			putAll(got.res.Attributes(), before)

			wa := want.rec.Attributes()
			for _, m := range extra {
				wa.PutEmpty("x" + m.key).SetInt(m.val)
			}
			putAll(wa, attrs1)
			putAll(wa, attrs2)
			wa.PutStr(logattr.CFJS1Format, "f")
			putAll(want.res.Attributes(), res1)
			putAll(want.res.Attributes(), res2)

			dc := &Decoder{Limits: wideLimits}
			_, err := dc.Decode([]byte(line), got.target())
			require.NoError(t, err)
			sameInOrder(t, want.rec.Attributes(), got.rec.Attributes(), line)
			sameInOrder(t, want.res.Attributes(), got.res.Attributes(), line)
		}
	}
}

// A line's own attribute cfjs1.format (or cfjs1.dead_letter_for, on a
// dead-letter copy) keeps its place and takes the line's field, as
// PutEmpty would give for the field put last.
func TestDecodeMetaAttributesInTheLine(t *testing.T) {
	f := newFixture()
	_, err := Decode([]byte(`{"format":"f","f":{"attributes":{"a":1,"cfjs1.format":"x","cfjs1.dead_letter_for":"y","b":2}},"dead_letter_for":"log-b"}`), nil, f.target())
	require.NoError(t, err)
	var keys []string
	for k := range f.rec.Attributes().All() {
		keys = append(keys, k)
	}
	require.Equal(t, []string{"a", "cfjs1.format", "cfjs1.dead_letter_for", "b"}, keys)
	require.Equal(t, map[string]any{"a": int64(1), "b": int64(2), "cfjs1.format": "f", "cfjs1.dead_letter_for": "log-b"}, f.rec.Attributes().AsRaw())

	// Without a dead-letter marker, the line's attribute stays as it is.
	g := newFixture()
	_, err = Decode([]byte(`{"format":"f","f":{"attributes":{"cfjs1.dead_letter_for":"y"}}}`), nil, g.target())
	require.NoError(t, err)
	require.Equal(t, map[string]any{"cfjs1.format": "f", "cfjs1.dead_letter_for": "y"}, g.rec.Attributes().AsRaw())
}
