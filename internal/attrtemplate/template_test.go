package attrtemplate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func maps() (pcommon.Map, pcommon.Map) {
	attrs := pcommon.NewMap()
	attrs.PutStr("logx.service", "nginx")
	attrs.PutStr("cfjs1.format", "access")
	attrs.PutInt("peer.pid", 4242)
	attrs.PutBool("flag", true)
	attrs.PutDouble("ratio", 0.25)
	attrs.PutStr("empty", "")
	attrs.PutStr("host.name", "record-host") // shadows the resource's
	res := pcommon.NewMap()
	res.PutStr("host.name", "res-host")
	res.PutStr("dc", "ams01")
	return attrs, res
}

func render(t *testing.T, src string, opts Options) (string, int) {
	t.Helper()
	tpl, err := Parse(src, opts)
	require.NoError(t, err)
	attrs, res := maps()
	out, missing := tpl.Append([]byte("prefix:"), attrs, res)
	require.True(t, strings.HasPrefix(string(out), "prefix:"), "Append must append, not overwrite")
	return strings.TrimPrefix(string(out), "prefix:"), missing
}

func TestRender(t *testing.T) {
	cases := []struct {
		src, want string
		missing   int
	}{
		{"/var/log/logx/{logx.service}.log", "/var/log/logx/nginx.log", 0},
		{"logs-{cfjs1.format}", "logs-access", 0},
		{"static", "static", 0},
		{"", "", 0},
		{"{dc}", "ams01", 0},                               // resource fallback
		{"{host.name}", "record-host", 0},                  // record wins over resource
		{"{nope}", "unknown", 1},                           // default missing
		{"{nope:-other}", "other", 1},                      // own fallback
		{"{nope:-}", "", 1},                                // explicit empty fallback
		{"{nope|logx.service}", "nginx", 0},                // chain
		{"{nope|nada:-x}-{dc}", "x-ams01", 1},              // chain all missing
		{"{empty:-e}", "e", 1},                             // empty value is missing
		{"{peer.pid}/{flag}/{ratio}", "4242/true/0.25", 0}, // scalar types
		{"{{literal}} {logx.service}", "{literal} nginx", 0},
		{"a}}b", "a}b", 0},
	}
	for _, c := range cases {
		got, missing := render(t, c.src, Options{})
		assert.Equal(t, c.want, got, c.src)
		assert.Equal(t, c.missing, missing, c.src)
	}
}

func TestMissingOption(t *testing.T) {
	got, _ := render(t, "{nope}", Options{Missing: "misc"})
	assert.Equal(t, "misc", got)
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"{":            "not closed",
		"a}":           "unmatched '}'",
		"{}":           "empty placeholder",
		"{a|}":         "empty attribute name",
		"{|a}":         "empty attribute name",
		"{ a}":         "surrounding spaces",
		"{a{b}}":       "do not nest",
		"{:-x}":        "empty placeholder",
		"x/{a:-b/c}.l": "fallback \"b/c\"",
		"x/{a:-..}.l":  "fallback \"..\"",
	}
	for src, want := range cases {
		_, err := Parse(src, Options{Escape: EscapePath})
		require.Error(t, err, src)
		assert.Contains(t, err.Error(), want, src)
	}
	_, err := Parse("{a}", Options{Escape: EscapeTopic, Missing: "no spaces"})
	require.ErrorContains(t, err, "missing value")
	_, err = Parse("{a:-x y}", Options{Escape: EscapeTopic})
	require.ErrorContains(t, err, "fallback")
}

func TestEscapePath(t *testing.T) {
	tpl := MustParse("/var/log/{svc}/{svc}.log", Options{Escape: EscapePath})
	for value, want := range map[string]string{
		"../../etc/passwd": "/var/log/.._.._etc_passwd/.._.._etc_passwd.log",
		"..":               "/var/log/__/__.log",
		".":                "/var/log/_/_.log",
		"a\x00b\nc":        "/var/log/a_b_c/a_b_c.log",
		"/abs":             "/var/log/_abs/_abs.log",
		"ok.name-1":        "/var/log/ok.name-1/ok.name-1.log",
	} {
		attrs := pcommon.NewMap()
		attrs.PutStr("svc", value)
		out, _ := tpl.Append(nil, attrs, pcommon.Map{})
		assert.Equal(t, want, string(out), "%q", value)
		for el := range strings.SplitSeq(string(out), "/") {
			assert.NotEqual(t, "..", el)
		}
	}
	attrs := pcommon.NewMap()
	attrs.PutStr("svc", strings.Repeat("x", 1000))
	out, _ := MustParse("{svc}", Options{Escape: EscapePath}).Append(nil, attrs, pcommon.Map{})
	assert.Len(t, out, MaxPathValueLen)
}

func TestEscapeTopic(t *testing.T) {
	attrs := pcommon.NewMap()
	attrs.PutStr("f", "a b/c.d_e-f+g")
	attrs.PutDouble("big", 1e6)
	out, _ := MustParse("logs-{f}-{big}", Options{Escape: EscapeTopic}).Append(nil, attrs, pcommon.Map{})
	assert.Equal(t, "logs-a_b_c.d_e-f_g-1000000", string(out))
}

func TestZeroMapsAndAccessors(t *testing.T) {
	tpl := MustParse("x-{a|b:-f}-{c}", Options{})
	out, missing := tpl.Append(nil, pcommon.Map{}, pcommon.Map{})
	assert.Equal(t, "x-f-unknown", string(out))
	assert.Equal(t, 2, missing)
	assert.Equal(t, []string{"a", "b", "c"}, tpl.Keys())
	assert.False(t, tpl.Static())
	assert.True(t, MustParse("x{{y}}", Options{}).Static())
	assert.Equal(t, "x-{a|b:-f}-{c}", tpl.String())
	assert.Panics(t, func() { MustParse("{", Options{}) })
}

func TestAppendAllocs(t *testing.T) {
	attrs, res := maps()
	tpl := MustParse("/var/log/{logx.service}/{dc}-{peer.pid}-{ratio}-{nope}.log", Options{Escape: EscapePath})
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(1000, func() {
		buf, _ = tpl.Append(buf[:0], attrs, res)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, "/var/log/nginx/ams01-4242-0.25-unknown.log", string(buf))
}

func BenchmarkAppend(b *testing.B) {
	attrs, res := maps()
	tpl := MustParse("/var/log/logx/{logx.service}/{dc}.log", Options{Escape: EscapePath})
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = tpl.Append(buf[:0], attrs, res)
	}
}

// FuzzParse checks that Parse never panics, that a template it accepts
// renders without panicking, and that under EscapePath no rendered path
// gains a ".." element or a NUL that the template's literal text lacked.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/var/log/logx/{logx.service}.log", "logs-{cfjs1.format}", "{a|b:-c}", "{{x}}",
		"{", "}", "{}", "{a{b}}", "{a:-}", "{:-}", "a}}b{{", "{a|b|c}/{d:-e}",
	} {
		f.Add(s, "../x")
	}
	f.Fuzz(func(t *testing.T, src, value string) {
		for _, esc := range []Escape{EscapeNone, EscapePath, EscapeTopic} {
			tpl, err := Parse(src, Options{Escape: esc})
			if err != nil {
				continue
			}
			attrs := pcommon.NewMap()
			for _, k := range tpl.Keys() {
				attrs.PutStr(k, value)
			}
			out, _ := tpl.Append(nil, attrs, pcommon.Map{})
			if esc != EscapePath {
				continue
			}
			lits, _ := tpl.Append(nil, pcommon.Map{}, pcommon.Map{}) // fallbacks only
			if !strings.Contains(string(lits), "\x00") && strings.Contains(string(out), "\x00") {
				t.Fatalf("NUL injected: %q from %q with %q", out, src, value)
			}
			if !hasDotDot(string(lits)) && hasDotDot(string(out)) && !hasDotDot(src) {
				t.Fatalf("'..' element injected: %q from %q with %q", out, src, value)
			}
		}
	})
}

func hasDotDot(p string) bool {
	for el := range strings.SplitSeq(p, "/") {
		if el == ".." {
			return true
		}
	}
	return false
}
