package cfjs1

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each limit lets through a line exactly at it and refuses one past it,
// with the cause DropReason names.
func TestLimitsBoundaries(t *testing.T) {
	lim := Limits{MaxMembers: 5, MaxValues: 12, MaxDepth: 3}
	dc := &Decoder{Limits: lim}
	members := func(n int) string {
		var s []string
		for i := range n {
			s = append(s, keyN(i))
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		line   string
		reason string
	}{
		{`{"format":"a","a":{"attributes":{` + members(5) + `}}}`, ""},
		{`{"format":"a","a":{"attributes":{` + members(6) + `}}}`, ReasonTooManyMembers},
		{`{"format":"a","a":{"resource":{` + members(6) + `}}}`, ReasonTooManyMembers},
		{`{"format":"a","a":{"message":{"m":{` + members(6) + `}}}}`, ReasonTooManyMembers},
		{`{"format":"a","a":{` + members(5) + `}}`, ""},
		{`{"format":"a","a":{` + members(6) + `}}`, ReasonTooManyMembers},
		{`{"format":"a","format":"a","format":"a","format":"a","a":{}}`, ""},
		{`{"format":"a","format":"a","format":"a","format":"a","format":"a","a":{}}`, ReasonTooManyMembers},
		{`{"format":"a","a":{"scope":{"name":"a","name":"a","name":"a","name":"a","name":"a"}}}`, ""},
		{`{"format":"a","a":{"scope":{"name":"a","name":"a","name":"a","name":"a","name":"a","name":"a"}}}`, ReasonTooManyMembers},
		// 12 values: the message array and its 11 elements.
		{`{"format":"a","a":{"message":[1,2,3,4,5,6,7,8,9,10,11]}}`, ""},
		{`{"format":"a","a":{"message":[1,2,3,4,5,6,7,8,9,10,11,12]}}`, ReasonTooManyValues},
		// Each attributes object counts, and each of its members.
		{`{"format":"a","a":{"attributes":{"a":1,"b":2,"c":3},"attributes":{"d":4,"e":5},"message":[1,2,3,4]}}`, ""},
		{`{"format":"a","a":{"attributes":{"a":1,"b":2,"c":3},"attributes":{"d":4,"e":5},"message":[1,2,3,4,5]}}`, ReasonTooManyValues},
		{`{"format":"a","a":{"resource":{"a":1,"b":2,"c":3},"resource":{"d":4,"e":5},"x":[1,2,3,4]}}`, ""},
		{`{"format":"a","a":{"resource":{"a":1,"b":2,"c":3},"resource":{"d":4,"e":5},"x":[1,2,3,4,5]}}`, ReasonTooManyValues},
		{`{"format":"a","a":{"message":[[[1]]]}}`, ""},
		{`{"format":"a","a":{"message":[[[[1]]]]}}`, ReasonTooDeep},
		{`{"format":"a","a":{"attributes":{"x":{"y":{"z":{}}}}}}`, ""},
		{`{"format":"a","a":{"attributes":{"x":{"y":{"z":{"w":{}}}}}}}`, ReasonTooDeep},
		{`{"format":"a","a":{"x":[{"z":1}]}}`, ""},
		{`{"format":"a","a":{"x":[{"z":[[]]}]}}`, ReasonTooDeep},
	}
	for _, c := range cases {
		f := newFixture()
		f.rec.Body().SetStr("before")
		_, err := dc.Decode([]byte(c.line), f.target())
		assert.Equal(t, c.reason, DropReason(err), "%s: %v", c.line, err)
		if c.reason != "" {
			assert.Equal(t, "before", f.rec.Body().Str(), "a refused line leaves the record as it was: %s", c.line)
		}
	}
}

func TestLimitsDefaultsAndValidate(t *testing.T) {
	require.NoError(t, DefaultLimits().Validate())
	assert.Equal(t, Limits{MaxMembers: 10000, MaxValues: 100000, MaxDepth: 64}, DefaultLimits())
	// A zero Decoder, or a limit left zero, takes the defaults.
	assert.Equal(t, DefaultLimits(), Limits{}.orDefaults())
	assert.Equal(t, Limits{MaxMembers: 7, MaxValues: DefaultMaxValues, MaxDepth: DefaultMaxDepth}, Limits{MaxMembers: 7}.orDefaults())
	err := Limits{MaxMembers: 0, MaxValues: -1, MaxDepth: 100000}.Validate()
	require.Error(t, err)
	for _, want := range []string{"max_members must be between 1 and", "max_values must be between 1 and", "max_depth must be between 1 and 1000 (default 64)"} {
		require.ErrorContains(t, err, want)
	}

	var dc Decoder
	// Padded, so that its length allows its maps and arrays (weightBudget).
	deep := string(padTo([]byte(`{"format":"a","a":{"message":`+strings.Repeat("[", DefaultMaxDepth+1)+strings.Repeat("]", DefaultMaxDepth+1)+`}}`), 2000))
	f := newFixture()
	_, err = dc.Decode([]byte(deep), f.target())
	require.ErrorIs(t, err, ErrTooDeep)
	dc.Limits.MaxDepth = DefaultMaxDepth + 1
	_, err = dc.Decode([]byte(deep), f.target())
	require.NoError(t, err)
	dc.Wrappers = Wrappers{"a": "b"}
	_, err = dc.Decode([]byte(deep), f.target())
	require.ErrorIs(t, err, ErrNotARecord)
}

// maxLine is the receiver's default max_line_size: the memory bound is
// stated for lines up to it.
const maxLine = 1 << 20

// Memory bound per line, under the default limits, for any line of up to
// maxLine bytes: allocated while decoding, and kept by the decoded record.
const (
	maxAllocated = 32 * maxLine
	maxKept      = 16 * maxLine
)

// padTo pads line (a hostile line) to about size bytes with a long string
// in its wrapper, so the line's text costs what a full line's does.
func padTo(line []byte, size int) []byte {
	const head = `{"format":"a","a":{`
	if len(line)+20 >= size {
		return line
	}
	pad := `"pad":"` + strings.Repeat("p", size-len(line)-10) + `",`
	return []byte(head + pad + string(line[len(head):]))
}

// memoryOf decodes line once and returns the bytes allocated and the bytes
// the decoded record keeps.
func memoryOf(t *testing.T, dc *Decoder, line []byte) (allocated, kept uint64, err error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f := newFixture()
	_, err = dc.Decode(line, f.target())
	runtime.ReadMemStats(&after)
	allocated = after.TotalAlloc - before.TotalAlloc
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(f)
	if after.HeapAlloc > before.HeapAlloc {
		kept = after.HeapAlloc - before.HeapAlloc
	}
	return allocated, kept, err
}

// Under the default limits, no line of up to maxLine bytes makes the
// decoder allocate more than maxAllocated or keep more than maxKept:
// the hostile shapes at the full size (refused for too many values or
// members, or decoded), and each cut down to the largest line the limits
// let through, padded back to the full size with a long string.
func TestDecodeMemoryBoundedPerLine(t *testing.T) {
	var dc Decoder
	check := func(shape string, line []byte) error {
		allocated, kept, err := memoryOf(t, &dc, line)
		t.Logf("%-50s %8d bytes: allocated %5.1f MiB (%4.1f× max line), kept %5.1f MiB (%4.1f×), %s",
			shape, len(line), float64(allocated)/(1<<20), float64(allocated)/maxLine, float64(kept)/(1<<20), float64(kept)/maxLine, reasonOrOK(err))
		assert.LessOrEqual(t, allocated, uint64(maxAllocated), shape)
		assert.LessOrEqual(t, kept, uint64(maxKept), shape)
		return err
	}
	for name, line := range hostileLines(maxLine - 1<<10) {
		err := check(name+" (full size)", line)
		// Then the largest line of this shape the limits let through: the
		// refusal says at which byte the line went over a limit.
		for tries := 0; err != nil && tries < 8; tries++ {
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			l := hostileLines(min(len(line)*3/4, se.Offset*19/20))[name]
			f := newFixture()
			if _, err = dc.Decode(l, f.target()); err == nil {
				// The memory bounds are what check asserts; whether the
				// padded line is still accepted does not matter here.
				_ = check(name+" (largest accepted)", padTo(l, maxLine))
			}
			line = l
		}
		if err != nil {
			// A shape of maps or arrays of a few bytes each is refused at
			// any length past the smallest (containerBudget).
			require.ErrorIs(t, err, ErrTooManyValues, name)
			require.Less(t, len(line), 4<<10, name)
		}
	}
}

func reasonOrOK(err error) string {
	if err == nil {
		return "decoded"
	}
	return "refused: " + DropReason(err)
}

// The limits refuse a line before it is built into pdata, so a refused
// line costs its scratch, not the record it would have made.
func TestRefusedLineBuildsNothing(t *testing.T) {
	line := []byte(`{"format":"a","a":{"message":[` + strings.TrimSuffix(strings.Repeat("[],", DefaultMaxValues+1), ",") + `]}}`)
	f := newFixture()
	_, err := Decode(line, nil, f.target())
	require.ErrorIs(t, err, ErrTooManyValues, "%v", err)
	assert.Equal(t, 0, f.rec.Attributes().Len())
	assert.Equal(t, "Empty", f.rec.Body().Type().String())
	assert.Contains(t, err.Error(), "more maps and arrays than a line of", "a line of 3-byte arrays is refused for its density first")
}

// A line's maps and arrays are bounded by its length too: a line of
// arrays of two bytes each, within every limit of Limits, is refused; the
// same arrays with enough other text beside them are taken. (Such a line
// costs pdata over ten times an ordinary line's CPU per byte.)
func TestDenseContainersRefused(t *testing.T) {
	var nested strings.Builder
	for k := range 200 {
		fmt.Fprintf(&nested, `"d%d":%s1%s,`, k, strings.Repeat("[", 20), strings.Repeat("]", 20))
	}
	attrs := strings.TrimSuffix(nested.String(), ",")
	line := []byte(`{"format":"a","a":{"attributes":{` + attrs + `}}}`)
	f := newFixture()
	_, err := Decode(line, nil, f.target())
	require.ErrorIs(t, err, ErrTooManyValues)
	assert.Equal(t, ReasonTooManyValues, DropReason(err))
	assert.Equal(t, 0, f.rec.Attributes().Len())
	// With text enough beside them (bytesPerContainer for each), the same
	// arrays are taken.
	_, err = Decode(padTo(line, bytesPerContainer*200*20+len(line)), nil, f.target())
	require.NoError(t, err)
	assert.Equal(t, 202, f.rec.Attributes().Len()) // and pad, cfjs1.format
	// An ordinary line uses a small part of its budget.
	rf := benchRecord()
	var d decoder
	d.reset(AppendLine(nil, "nginx", "nginx", rf.res, rf.scope, rf.rec, ""))
	require.NoError(t, d.parse())
	assert.Less(t, 4*d.containers, d.containerBudget)
}
