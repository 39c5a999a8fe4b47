package syslog

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

const sdHeader = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 "

// sdLine is an RFC 5424 line with the given elements, each holding
// params parameters named p<j % names>.
func sdLine(elements, params, names int) string {
	var b strings.Builder
	b.WriteString(sdHeader)
	for e := range elements {
		fmt.Fprintf(&b, "[e%d@32473", e)
		for j := range params {
			fmt.Fprintf(&b, ` p%d="v%d"`, j%names, j)
		}
		b.WriteByte(']')
	}
	b.WriteString(" the message")
	return b.String()
}

// orderedAttrs lists a map's members in order, keys and values.
func orderedAttrs(m pcommon.Map) []string {
	var out []string
	for k, v := range m.All() {
		out = append(out, k+"="+v.AsString())
	}
	return out
}

func TestRFC5424SDRepeatedNamesAsPutOneByOne(t *testing.T) {
	// Past sdSmall the attributes are built by appending; a repeated key
	// must still keep its first place and take its last value, exactly as
	// putting the parameters one by one gives.
	for _, names := range []int{1, 3, sdSmall, sdSmall + 1, 50} {
		line := sdLine(2, 40, names)
		p := newTestParser(FormatRFC5424)
		p.MaxSDParams, p.MaxSDElements = 1000, 1000
		lr := plog.NewLogRecord()
		require.NoError(t, p.Parse(line, lr))

		want := plog.NewLogRecord()
		setPRI(165, want)
		want.Attributes().PutInt(logattr.SyslogVersion, 1)
		want.Attributes().PutStr(logattr.SyslogHostname, "mymachine.example.com")
		want.Attributes().PutStr(logattr.SyslogAppName, "evntslog")
		want.Attributes().PutStr(logattr.SyslogProcID, "1234")
		want.Attributes().PutStr(logattr.SyslogMsgID, "ID47")
		for e := range 2 {
			for j := range 40 {
				want.Attributes().PutStr(fmt.Sprintf("syslog.sd.e%d@32473.p%d", e, j%names), fmt.Sprintf("v%d", j))
			}
		}
		assert.Equal(t, orderedAttrs(want.Attributes()), orderedAttrs(lr.Attributes()), "names %d", names)
		assert.Equal(t, "the message", lr.Body().Str())
	}
}

func TestRFC5424SDEscapedRepeats(t *testing.T) {
	var b strings.Builder
	b.WriteString(sdHeader + "[x@1")
	for j := range 30 {
		fmt.Fprintf(&b, ` k%d="a\"%d\]"`, j%5, j)
	}
	b.WriteString(`] m`)
	lr, err := parseTestLine(t, FormatRFC5424, b.String())
	require.NoError(t, err)
	a := attrsOf(lr)
	assert.Equal(t, `a"25]`, a["syslog.sd.x@1.k0"])
	assert.Equal(t, `a"29]`, a["syslog.sd.x@1.k4"])
	assert.Len(t, a, 6+5)
}

func TestRFC5424SDLimits(t *testing.T) {
	t.Run("params", func(t *testing.T) {
		lr, err := parseTestLine(t, FormatRFC5424, sdLine(1, DefaultMaxSDParams+10, 1000))
		require.NoError(t, err)
		a := attrsOf(lr)
		assert.Equal(t, true, a[logattr.SyslogSDTruncated])
		assert.Equal(t, "v63", a["syslog.sd.e0@32473.p63"])
		assert.NotContains(t, a, "syslog.sd.e0@32473.p64")
		assert.Len(t, a, 6+DefaultMaxSDParams+1)
		assert.Equal(t, "the message", lr.Body().Str(), "the MSG is found past the SD not turned into attributes")
	})
	t.Run("params_over_elements", func(t *testing.T) {
		lr, err := parseTestLine(t, FormatRFC5424, sdLine(10, 10, 1000))
		require.NoError(t, err)
		a := attrsOf(lr)
		assert.Equal(t, true, a[logattr.SyslogSDTruncated])
		assert.Contains(t, a, "syslog.sd.e6@32473.p3")
		assert.NotContains(t, a, "syslog.sd.e6@32473.p4")
		assert.Len(t, a, 6+DefaultMaxSDParams+1)
	})
	t.Run("elements", func(t *testing.T) {
		lr, err := parseTestLine(t, FormatRFC5424, sdLine(DefaultMaxSDElements+5, 1, 1))
		require.NoError(t, err)
		a := attrsOf(lr)
		assert.Equal(t, true, a[logattr.SyslogSDTruncated])
		assert.Contains(t, a, fmt.Sprintf("syslog.sd.e%d@32473.p0", DefaultMaxSDElements-1))
		assert.NotContains(t, a, fmt.Sprintf("syslog.sd.e%d@32473.p0", DefaultMaxSDElements))
		assert.Equal(t, "the message", lr.Body().Str())
	})
	t.Run("configured", func(t *testing.T) {
		p := newTestParser(FormatRFC5424)
		p.MaxSDElements, p.MaxSDParams = 2, 3
		lr := plog.NewLogRecord()
		require.NoError(t, p.Parse(sdLine(3, 2, 10), lr))
		a := attrsOf(lr)
		assert.Equal(t, true, a[logattr.SyslogSDTruncated])
		assert.Len(t, a, 6+3+1)
	})
	t.Run("at_the_limits", func(t *testing.T) {
		lr, err := parseTestLine(t, FormatRFC5424, sdLine(DefaultMaxSDElements, DefaultMaxSDParams/DefaultMaxSDElements, 1000))
		require.NoError(t, err)
		assert.NotContains(t, attrsOf(lr), logattr.SyslogSDTruncated)
		assert.Len(t, attrsOf(lr), 6+DefaultMaxSDParams)
	})
	t.Run("bad_syntax_past_the_limit", func(t *testing.T) {
		// SD past the limit is still read for its syntax: a line that is
		// not valid RFC 5424 keeps the whole line as its body.
		line := strings.TrimSuffix(sdLine(1, DefaultMaxSDParams+10, 1000), "] the message") + ` bad] m`
		lr, err := parseTestLine(t, FormatRFC5424, line)
		assert.True(t, IsParseError(err), "%v", err)
		assert.Equal(t, line, lr.Body().Str())
	})
}

// sdCostRatioLimit is how many times more CPU per byte a line crowded with
// structured data may take to parse than ordinary lines of the same total
// size. Linear parsing stays near 1; putting each parameter with a search
// of those before it is in the hundreds for 20000 parameters.
const sdCostRatioLimit = 5

// TestRFC5424SDCostLinear parses lines crowded with structured data and
// holds their CPU per byte to that of lighter lines of the same total size
// parsed in the same run. With the default limits the yardstick is
// ordinary lines; with the limits lifted, to test that building the
// attributes is linear in their number, it is the same parameters spread
// over 16 lines.
func TestRFC5424SDCostLinear(t *testing.T) {
	ordinary := sdHeader + `[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry`
	repeat := func(line string, n int) []string {
		lines := make([]string, n)
		for i := range lines {
			lines[i] = line
		}
		return lines
	}
	crowded := []struct {
		name                    string
		line                    string
		elements, params, names int
	}{
		{name: "20000_params", elements: 1, params: 20000, names: 20000},
		{name: "20000_params_100_names", elements: 1, params: 20000, names: 100},
		{name: "5000_elements", elements: 5000, params: 4, names: 4},
	}
	type costCase struct {
		name                  string
		line                  string
		ref                   []string
		maxElements, maxParam int
	}
	var cases []costCase
	for _, c := range crowded {
		line := sdLine(c.elements, c.params, c.names)
		cases = append(cases, costCase{name: "default_limits/" + c.name, line: line, ref: repeat(ordinary, len(line)/len(ordinary))})
		spread := sdLine(max(1, c.elements/16), max(1, c.params/max(1, 16/c.elements)), c.names)
		cases = append(cases, costCase{name: "no_limits/" + c.name, line: line, ref: repeat(spread, len(line)/len(spread)), maxElements: 1 << 20, maxParam: 1 << 20})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refBytes := 0
			for _, l := range c.ref {
				refBytes += len(l)
			}
			parse := func(lines ...string) time.Duration {
				p := newTestParser(FormatRFC5424)
				p.MaxSDElements, p.MaxSDParams = c.maxElements, c.maxParam
				// A first, unmeasured run grows the parser's scratch space,
				// as a long-lived connection's parser has it grown.
				require.NoError(t, p.Parse(lines[0], plog.NewLogRecord()))
				sl := plog.NewLogRecordSlice()
				sl.EnsureCapacity(len(lines))
				return testutil.MeasureThreadCPU(func() {
					for _, l := range lines {
						lr := sl.AppendEmpty()
						require.NoError(t, p.Parse(l, lr))
						require.NotContains(t, lr.Body().Str(), `="`, "the body is the MSG after the structured data")
					}
				})
			}
			var ratio float64
			for attempt := range 3 {
				refCPU := parse(c.ref...)
				cpu := parse(c.line)
				perByteRef := float64(refCPU) / float64(refBytes)
				perByte := float64(cpu) / float64(len(c.line))
				ratio = perByte / perByteRef
				t.Logf("attempt %d: %.1f ns/byte (%v for %d bytes) vs %.1f ns/byte for %d lighter lines: ratio %.2f",
					attempt, perByte, cpu, len(c.line), perByteRef, len(c.ref), ratio)
				if ratio <= sdCostRatioLimit {
					break
				}
			}
			assert.LessOrEqual(t, ratio, float64(sdCostRatioLimit), "CPU per byte of a line crowded with structured data")
		})
	}
}

// FuzzSDParamsAsPutOneByOne is a differential check of the linear
// construction of structured-data attributes against putting them one by
// one, for any sequence of names (repeats included) and escaped values.
func FuzzSDParamsAsPutOneByOne(f *testing.F) {
	f.Add([]byte{0, 1, 2, 0, 1, 2, 3})
	f.Add([]byte(strings.Repeat("\x00\x81", 40)))
	f.Add([]byte("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"))
	f.Fuzz(func(t *testing.T, spec []byte) {
		spec = spec[:min(len(spec), 400)]
		var b strings.Builder
		b.WriteString(sdHeader + "[x@1")
		want := plog.NewLogRecord()
		setPRI(165, want)
		wa := want.Attributes()
		wa.PutInt(logattr.SyslogVersion, 1)
		wa.PutStr(logattr.SyslogHostname, "mymachine.example.com")
		wa.PutStr(logattr.SyslogAppName, "evntslog")
		wa.PutStr(logattr.SyslogProcID, "1234")
		wa.PutStr(logattr.SyslogMsgID, "ID47")
		for i, c := range spec {
			name := fmt.Sprintf("n%d", c%32)
			if c&0x80 != 0 {
				fmt.Fprintf(&b, ` %s="e\"%d\]"`, name, i)
				wa.PutStr("syslog.sd.x@1."+name, fmt.Sprintf(`e"%d]`, i))
			} else {
				fmt.Fprintf(&b, ` %s="v%d"`, name, i)
				wa.PutStr("syslog.sd.x@1."+name, fmt.Sprintf("v%d", i))
			}
		}
		b.WriteString("] m")
		p := newTestParser(FormatRFC5424)
		p.MaxSDParams = 1000
		got := plog.NewLogRecord()
		if err := p.Parse(b.String(), got); err != nil {
			t.Fatalf("%v: %q", err, b.String())
		}
		if g, w := orderedAttrs(got.Attributes()), orderedAttrs(wa); !slices.Equal(g, w) {
			t.Fatalf("attributes\n%q\nwant\n%q", g, w)
		}
	})
}

// BenchmarkParseRFC5424 parses an ordinary RFC 5424 line with three SD
// parameters; ns/op is per line.
func BenchmarkParseRFC5424(b *testing.B) {
	line := sdHeader + `[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry`
	p := newTestParser(FormatRFC5424)
	sl := plog.NewLogRecordSlice()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			sl = plog.NewLogRecordSlice()
		}
		if err := p.Parse(line, sl.AppendEmpty()); err != nil {
			b.Fatal(err)
		}
	}
}
