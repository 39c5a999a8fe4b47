package cfjs1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The receiver reads lines into a reused buffer, and Decode reuses its own
// scratch from line to line: a decoded record must own its strings.
func TestDecodedRecordOwnsItsStrings(t *testing.T) {
	line := []byte(`{"format":"nginx","nginx":{"severity":"info","message":"a \"quoted\" body","attributes":{"k":"v","n":1},"HOST":"h1","resource":{"host.name":"edge-1"},"scope":{"name":"s","version":"1"}},"dead_letter_for":"log-b"}`)
	f := newFixture()
	meta, err := Decode(line, nil, f.target())
	require.NoError(t, err)
	want := map[string]any{"k": "v", "n": int64(1), "HOST": "h1", "cfjs1.format": "nginx", "cfjs1.dead_letter_for": "log-b"}
	require.Equal(t, want, f.rec.Attributes().AsRaw())

	// Overwrite the line and decode other lines through the same pool.
	copy(line, bytes.Repeat([]byte("x"), len(line)))
	for range 3 {
		g := newFixture()
		_, err := Decode([]byte(`{"format":"zzzzz","zzzzz":{"severity":"debug","message":"other body here!","attributes":{"q":"w","m":2}}}`), nil, g.target())
		require.NoError(t, err)
	}
	assert.Equal(t, Meta{Format: "nginx", Wrapper: "nginx", DeadLetterFor: "log-b"}, meta)
	assert.Equal(t, want, f.rec.Attributes().AsRaw())
	assert.Equal(t, `a "quoted" body`, f.rec.Body().Str())
	assert.Equal(t, "info", f.rec.SeverityText())
	assert.Equal(t, map[string]any{"host.name": "edge-1"}, f.res.Attributes().AsRaw())
	assert.Equal(t, "s", f.scope.Name())
	assert.Equal(t, "1", f.scope.Version())
}

// Decode checks the whole line before it writes: a bad line, or a wrapper
// that does not match the mapping, leaves the target as it was.
func TestDecodeErrorLeavesTargetUnchanged(t *testing.T) {
	for _, line := range []string{
		`{"format":"a","a":{"message":"m","attributes":{"k":"v"},"resource":{"r":1},"scope":{"name":"s"},"severity":"x","timestamp":5},"x":1}`,
		`{"format":"a","a":{"message":"m","attributes":{"k":"v"},"resource":{"r":1},"severity":"x","timestamp":5,"trace_id":"zz"}}`,
		`{"format":"a","b":{"message":"m","attributes":{"k":"v"},"resource":{"r":1},"scope":{"name":"s"},"severity":"x"}}`,
	} {
		f := newFixture()
		f.rec.Attributes().PutStr("before", "1")
		f.rec.Body().SetStr("old")
		_, err := Decode([]byte(line), Wrappers{"a": "a"}, f.target())
		require.Error(t, err, line)
		assert.Equal(t, map[string]any{"before": "1"}, f.rec.Attributes().AsRaw(), line)
		assert.Equal(t, "old", f.rec.Body().Str(), line)
		assert.Equal(t, 0, f.res.Attributes().Len(), line)
		assert.Empty(t, f.scope.Name(), line)
		assert.Empty(t, f.rec.SeverityText(), line)
		assert.Zero(t, f.rec.Timestamp(), line)
	}
}

// Fields repeated in a line: the last value wins, attributes merge in
// line order, and a null message leaves the body as it was.
func TestDecodeRepeatedFields(t *testing.T) {
	line := `{"format":"a","a":{"message":"first","severity":"x","severity":"y","attributes":{"k":1,"j":2},"k":"again","attributes":{"j":{"deep":[1,null]}},"message":null,"resource":{"r":1},"resource":{"r":2,"s":3}}}`
	f := newFixture()
	_, err := Decode([]byte(line), nil, f.target())
	require.NoError(t, err)
	assert.Equal(t, "first", f.rec.Body().Str())
	assert.Equal(t, "y", f.rec.SeverityText())
	assert.Equal(t, map[string]any{"k": "again", "j": map[string]any{"deep": []any{int64(1), nil}}, "cfjs1.format": "a"}, f.rec.Attributes().AsRaw())
	var keys []string
	for k := range f.rec.Attributes().All() {
		keys = append(keys, k)
	}
	assert.Equal(t, []string{"k", "j", "cfjs1.format"}, keys)
	assert.Equal(t, map[string]any{"r": int64(2), "s": int64(3)}, f.res.Attributes().AsRaw())
}

// BenchmarkDecodeParse is the first pass alone (parse and check the line
// into the scratch list; no pdata, no allocation) and BenchmarkDecodeFill
// the second alone (pdata: one value per attribute, maps sized once): with
// BenchmarkDecode10Attrs they show where a line's time goes.
func BenchmarkDecodeParse(b *testing.B) {
	f := benchRecord()
	line := AppendLine(nil, "nginx", "nginx", f.res, f.scope, f.rec, "")
	b.SetBytes(int64(len(line)))
	d := new(decoder)
	b.ReportAllocs()
	for b.Loop() {
		d.reset(line)
		if err := d.parse(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeFill(b *testing.B) {
	f := benchRecord()
	line := AppendLine(nil, "nginx", "nginx", f.res, f.scope, f.rec, "")
	d := new(decoder)
	d.reset(line)
	if err := d.parse(); err != nil {
		b.Fatal(err)
	}
	d.all = string(d.text)
	g := newFixture()
	b.ReportAllocs()
	for b.Loop() {
		g.rec.Attributes().Clear()
		g.res.Attributes().Clear()
		d.fill(g.target(), Meta{Format: "nginx"})
	}
}

// Decoders come from a pool: goroutines decoding at once (one receiver
// connection each) must not see each other's lines.
func TestDecodeConcurrent(t *testing.T) {
	const workers, lines = 4, 200
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range lines {
				want := fmt.Sprintf("w%d-line%d \"q\"", w, i)
				line, _ := json.Marshal(map[string]any{"format": "f", "f": map[string]any{"message": want, "attributes": map[string]any{"i": i}}})
				f := newFixture()
				if _, err := Decode(line, nil, f.target()); err != nil {
					errs <- err
					return
				}
				n, _ := f.rec.Attributes().Get("i")
				if got := f.rec.Body().Str(); got != want || n.Int() != int64(i) {
					errs <- fmt.Errorf("got %q / %d, want %q / %d", got, n.Int(), want, i)
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		require.NoError(t, <-errs)
	}
}

// Consecutive lines share the values they repeat (see recentValues): each
// record still gets exactly its own line's values, changing one record
// changes no other, and a repeated line allocates only what is its own.
func TestDecodeSharesRepeatedValues(t *testing.T) {
	lines := []string{
		`{"format":"a","a":{"message":"1","attributes":{"svc":"api","n":1,"ok":true,"r":0.5},"resource":{"host.name":"h1"}}}`,
		`{"format":"a","a":{"message":"2","attributes":{"svc":"api","n":1,"ok":true,"r":0.5},"resource":{"host.name":"h1"}}}`,
		`{"format":"a","a":{"message":"3","attributes":{"svc":"web","n":2,"ok":false,"r":-0.0},"resource":{"host.name":"h1"}},"dead_letter_for":"log-b"}`,
		`{"format":"b","b":{"message":"4","attributes":{"n":"api","svc":1,"ok":0.5,"r":true},"resource":{"host.name":"h2"}}}`,
		`{"format":"b","b":{"message":"5","attributes":{"n":"api","svc":1,"ok":0.5,"r":true},"resource":{"host.name":"h2"}}}`,
	}
	var got []fixture
	for _, line := range lines {
		f := newFixture()
		_, err := Decode([]byte(line), nil, f.target())
		require.NoError(t, err)
		got = append(got, f)
	}
	for _, f := range got {
		v, _ := f.rec.Attributes().Get("svc")
		v.SetStr("changed")
		f.rec.Attributes().PutStr("cfjs1.format", "changed")
		f.res.Attributes().PutStr("host.name", "changed")
	}
	// Decoded again (through the pool, whose recent values came from the
	// records just changed), each record is as its line says.
	for i, line := range lines {
		f := newFixture()
		_, err := Decode([]byte(line), nil, f.target())
		require.NoError(t, err)
		fresh := newFixture()
		var plain decoder // no recent values: every value made anew
		_, err = plain.decode([]byte(line), nil, fresh.target())
		require.NoError(t, err)
		assert.Equal(t, fresh.rec.Attributes().AsRaw(), f.rec.Attributes().AsRaw(), "line %d", i)
		assert.Equal(t, fresh.res.Attributes().AsRaw(), f.res.Attributes().AsRaw(), "line %d", i)
		assert.True(t, fresh.rec.Attributes().Equal(f.rec.Attributes()), "line %d: value types differ", i)
	}

	line := []byte(lines[0])
	var d decoder
	f := newFixture()
	_, err := d.decode(line, nil, f.target())
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() {
		f.rec.Attributes().Clear()
		f.res.Attributes().Clear()
		if _, err := d.decode(line, nil, f.target()); err != nil {
			t.Fatal(err)
		}
	})
	// The line's text, the body, and the two attribute arrays.
	assert.LessOrEqual(t, allocs, float64(4))
}

// parseShortDecimal is a shortcut past strconv.ParseFloat: wherever it
// answers, it must give strconv's bits exactly.
func FuzzParseShortDecimal(f *testing.F) {
	for _, s := range []string{"0.5", "-0.0", "123456789012.345", "0.000000000000001", "999999999999999.9", "1.", "-1.5", "1.5.5", "12e3", "9007199254740993.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		got, ok := parseShortDecimal([]byte(s))
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("parseShortDecimal(%q) = %v, strconv refuses it: %v", s, got, err)
		}
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseShortDecimal(%q) = %v, strconv gives %v", s, got, want)
		}
	})
}

func TestParseShortDecimalMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	answered := 0
	for range 100000 {
		digits := 1 + rng.IntN(15)
		point := 1 + rng.IntN(digits) // digits before the point
		b := make([]byte, 0, 18)
		if rng.IntN(2) == 0 {
			b = append(b, '-')
		}
		for i := range digits {
			if i == point {
				b = append(b, '.')
			}
			b = append(b, byte('0'+rng.IntN(10)))
		}
		got, ok := parseShortDecimal(b)
		want, err := strconv.ParseFloat(string(b), 64)
		if !ok {
			continue
		}
		answered++
		require.NoError(t, err, string(b))
		require.Equal(t, math.Float64bits(want), math.Float64bits(got), string(b))
	}
	assert.Greater(t, answered, 50000, "the shortcut should answer most short decimals")
}

func TestPlainPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("abcXYZ09 ~\"\\\x00\x1f\x7f\x80\xc3\xa9\xff")
	for range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(8) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = byte('a' + rng.IntN(26))
			}
		}
		n := plainPrefix(b)
		for _, c := range b[:n] {
			require.Equal(t, uint8(classPlain), strClass[c], "%q: byte %q before %d is not plain", b, c, n)
		}
		if n < len(b) && len(b)-n >= 8 {
			require.NotEqual(t, uint8(classPlain), strClass[b[n]], "%q: stopped at plain byte %d", b, n)
		}
	}
}

// Keys that share a bit of mapTarget's filter are all kept, in line order,
// and a key that does come twice keeps its first place and its last value.
func TestDecodeKeysSharingABit(t *testing.T) {
	w0, b0 := keyBit("k0")
	other := ""
	for i := 1; other == ""; i++ {
		k := fmt.Sprintf("k%d", i)
		if w, b := keyBit(k); w == w0 && b == b0 {
			other = k
		}
	}
	line := fmt.Sprintf(`{"format":"a","a":{"attributes":{"k0":1,"x":2,%q:3,"y":4,"x":5}}}`, other)
	f := newFixture()
	_, err := Decode([]byte(line), nil, f.target())
	require.NoError(t, err)
	var keys []string
	var vals []int64
	for k, v := range f.rec.Attributes().All() {
		keys = append(keys, k)
		vals = append(vals, v.Int())
	}
	assert.Equal(t, []string{"k0", "x", other, "y", "cfjs1.format"}, keys)
	assert.Equal(t, []int64{1, 5, 3, 4, 0}, vals)
}

// Into a record that has attributes already, the line's are merged: a key
// the record has keeps its place and takes the line's value.
func TestDecodeMergesIntoExistingAttributes(t *testing.T) {
	f := newFixture()
	f.rec.Attributes().PutStr("x", "old")
	f.rec.Attributes().PutStr("keep", "me")
	f.res.Attributes().PutStr("host.name", "old")
	_, err := Decode([]byte(`{"format":"a","a":{"attributes":{"y":1,"x":"new"},"resource":{"host.name":"h","r":2}}}`), nil, f.target())
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"x": "new", "keep": "me", "y": int64(1), "cfjs1.format": "a"}, f.rec.Attributes().AsRaw())
	var keys []string
	for k := range f.rec.Attributes().All() {
		keys = append(keys, k)
	}
	assert.Equal(t, []string{"x", "keep", "y", "cfjs1.format"}, keys)
	assert.Equal(t, map[string]any{"host.name": "h", "r": int64(2)}, f.res.Attributes().AsRaw())
}

// scanNumber takes exactly JSON's numbers: whatever it reads whole as a
// number, encoding/json finds valid, and the other way round.
func FuzzScanNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "0.", "1.e3", "01", "-", "1e", "1e+", "1E-7", "12.50", "1.5.5", "0x1", "1_0", "+1", ".5", "-01", "9" + strings.Repeat("9", 400), "1e999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
			return // not where the parser asks for a number
		}
		end, _, ok := scanNumber([]byte(s), 0)
		whole := ok && skipWS([]byte(s), end) == len(s) // JSON allows whitespace after a value
		if whole != json.Valid([]byte(s)) {
			t.Fatalf("scanNumber(%q) = %d, %v; json.Valid says %v", s, end, ok, json.Valid([]byte(s)))
		}
	})
}
