package cfjs1

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The lines a hostile sender could write to make a line cost more than its
// size: each is about hostileSize bytes of valid cfjs1.
const hostileSize = 128 << 10

// wideLimits let the hostile lines through, so that decoding them whole is
// what is measured (with the default limits most are refused early).
var wideLimits = Limits{MaxMembers: 1 << 20, MaxValues: 1 << 21, MaxDepth: 64}

// fillTo repeats item(i) joined by sep until the text is about size bytes.
func fillTo(size int, sep string, item func(i int) string) string {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(item(i))
	}
	return b.String()
}

func keyN(i int) string { return fmt.Sprintf(`"k%d":1`, i) }

// hostileLines are the shapes known to be expensive for a JSON decoder
// that builds maps: many keys in every kind of object, repeated keys,
// nesting, long numbers, strings of escapes or invalid UTF-8, and many
// tiny values.
func hostileLines(size int) map[string][]byte {
	line := func(wrapped string) []byte { return []byte(`{"format":"a","a":{` + wrapped + `}}`) }
	deepArray := strings.Repeat("[", 60) + "1" + strings.Repeat("]", 60)
	deepMap := strings.Repeat(`{"a":`, 60) + "1" + strings.Repeat("}", 60)
	return map[string][]byte{
		"attributes many keys": line(`"attributes":{` + fillTo(size, ",", keyN) + `}`),
		"resource many keys":   line(`"resource":{` + fillTo(size, ",", keyN) + `}`),
		"wrapper many keys":    line(fillTo(size, ",", keyN)),
		"nested map many keys": line(`"attributes":{"m":{` + fillTo(size, ",", keyN) + `}}`),
		"body map many keys":   line(`"message":{` + fillTo(size, ",", keyN) + `}`),
		"many nested maps of many keys": line(`"attributes":{"m":[` + fillTo(size, ",", func(int) string {
			return "{" + fillTo(2000, ",", keyN) + "}"
		}) + `]}`),
		"one key repeated":       line(`"attributes":{` + fillTo(size, ",", func(int) string { return `"k":1` }) + `}`),
		"keys repeated in turns": line(`"attributes":{` + fillTo(size, ",", func(i int) string { return keyN(i % 1000) }) + `}`),
		"attributes objects repeated": line(fillTo(size, ",", func(i int) string {
			return `"attributes":{` + keyN(i) + `}`
		})),
		"deep arrays":          line(`"message":[` + fillTo(size, ",", func(int) string { return deepArray }) + `]`),
		"deep maps":            line(`"message":[` + fillTo(size, ",", func(int) string { return deepMap }) + `]`),
		"one huge number":      line(`"message":` + strings.Repeat("9", size) + ".5e-3"),
		"many long numbers":    line(`"message":[` + fillTo(size, ",", func(int) string { return strings.Repeat("7", 400) + "e-390" }) + `]`),
		"escapes":              line(`"message":"` + strings.Repeat(`\u00e9\n\"`, size/10) + `"`),
		"lone surrogates":      line(`"message":"` + strings.Repeat(`\ud800`, size/6) + `"`),
		"invalid utf-8":        line(`"message":"` + strings.Repeat("\xff\xc3", size/2) + `"`),
		"invalid utf-8 keys":   line(`"attributes":{` + fillTo(size, ",", func(i int) string { return fmt.Sprintf("\"k%d\xff\":1", i) }) + `}`),
		"many small ints":      line(`"message":[` + fillTo(size, ",", func(int) string { return "1" }) + `]`),
		"many empty maps":      line(`"message":[` + fillTo(size, ",", func(int) string { return "{}" }) + `]`),
		"many empty arrays":    line(`"message":[` + fillTo(size, ",", func(int) string { return "[]" }) + `]`),
		"many empty strings":   line(`"message":[` + fillTo(size, ",", func(int) string { return `""` }) + `]`),
		"many nulls":           line(`"message":[` + fillTo(size, ",", func(int) string { return "null" }) + `]`),
		"many small doubles":   line(`"message":[` + fillTo(size, ",", func(int) string { return "0.5" }) + `]`),
		"many members of null": line(`"attributes":{` + fillTo(size, ",", func(i int) string { return fmt.Sprintf(`"%d":null`, i) }) + `}`),
	}
}

// ordinaryLine is a line of about size bytes made of ordinary records: its
// message holds the attributes of one after another, as a batch would.
func ordinaryLine(size int) []byte {
	one := `{"service.name":"nginx.service","syslog.appname":"nginx","syslog.procid":"1234","syslog.facility":3,"dc":"ams01","unit.status":"active","peer.pid":1234,"sampled":true,"ratio":0.5,"message":"192.0.2.1 - - \"GET /index.html HTTP/1.1\" 200 5120 \"-\" \"curl/8.0\""}`
	return []byte(`{"format":"a","a":{"timestamp":"2026-11-22T04:05:06.789Z","resource":{"host.name":"edge-17"},"message":[` +
		fillTo(size, ",", func(int) string { return one }) + `]}}`)
}

// decodeCost is CPU time per line, decoding and the garbage collection it
// drives, in steady state: the line is decoded in batches of about 20 ms
// (the collector's work spread over them as it would be over a stream of
// such lines), and the least batch counts (the one least disturbed by
// whatever else the machine does). It stops after runs batches or, past the
// first, budget of time.
func decodeCost(t *testing.T, dc *Decoder, line []byte, runs int, budget time.Duration) time.Duration {
	t.Helper()
	decode := func() {
		f := newFixture()
		_, err := dc.Decode(line, f.target())
		// A shape dense in maps and arrays is refused (containerBudget):
		// what it costs is measured all the same.
		if err != nil {
			require.ErrorIs(t, err, ErrTooManyValues)
		}
	}
	start := testutil.ProcessCPU()
	decode()
	per := max(testutil.ProcessCPU()-start, time.Microsecond)
	batch := int(min(max(20*time.Millisecond/per, 1), 200))
	best := time.Duration(1<<63 - 1)
	deadline := time.Now().Add(budget)
	for r := 0; r < runs && (r == 0 || time.Now().Before(deadline)); r++ {
		start := testutil.ProcessCPU()
		for range batch {
			decode()
		}
		best = min(best, (testutil.ProcessCPU()-start)/time.Duration(batch))
	}
	return best
}

// valuesOf is how many values (nodes) the decoder makes of line.
func valuesOf(t *testing.T, line []byte) int {
	d := &decoder{lim: wideLimits}
	f := newFixture()
	_, err := d.decode(line, nil, f.target())
	if err != nil { // refused for its density, once it has made these
		require.ErrorIs(t, err, ErrTooManyValues)
	}
	return len(d.nodes)
}

// A hostile line costs no more CPU than 5 ordinary lines of its size, or
// with as many values, whichever is more: decoding is linear in the line
// and its values, whatever they hold. (Both are bounded: the line by the
// receiver, its values by Limits.) The values matter for the shapes that
// spend two or three bytes of JSON on each ([1,1,...], [[[[]]]], [{},{}]):
// pdata allocates for each value, and for each map or array more than once,
// whatever the JSON was. Building pdata maps key by key is quadratic: on
// such code the many-key lines cost hundreds of times more.
func TestDecodeHostileLinesCostLinear(t *testing.T) {
	const maxRatio = 5
	dc := &Decoder{Limits: wideLimits}
	ordinary := ordinaryLine(hostileSize)
	ordinaryValues := valuesOf(t, ordinary)
	base := decodeCost(t, dc, ordinary, 5, time.Second)
	// ratio is line's cost against ordinary lines of its size or values.
	ratio := func(line []byte, values int, cost time.Duration) float64 {
		bySize := float64(base) * float64(len(line)) / float64(len(ordinary))
		byValues := float64(base) * float64(values) / float64(ordinaryValues)
		return float64(cost) / max(bySize, byValues)
	}
	for name, line := range hostileLines(hostileSize) {
		values := valuesOf(t, line)
		// Measured beside the ordinary line again, so that both see the
		// same load on the machine; the ordinary line's best stands.
		base = min(base, decodeCost(t, dc, ordinary, 2, 500*time.Millisecond))
		cost := decodeCost(t, dc, line, 3, time.Second)
		r := ratio(line, values, cost)
		if r > maxRatio {
			// One more try on a machine that may have been busy.
			base = min(base, decodeCost(t, dc, ordinary, 5, 2*time.Second))
			cost = min(cost, decodeCost(t, dc, line, 5, 2*time.Second))
			r = ratio(line, values, cost)
		}
		t.Logf("%-30s %7d bytes %7d values  %6.1f ns/byte %6.1f ns/value  %4.1f× ordinary (%.1f ns/byte, %.1f ns/value)", name, len(line), values,
			float64(cost)/float64(len(line)), float64(cost)/float64(values), r, float64(base)/float64(len(ordinary)), float64(base)/float64(ordinaryValues))
		assert.LessOrEqual(t, r, float64(maxRatio), "%s: %v against %v for an ordinary line", name, cost, base)
	}
}

// BenchmarkDecodeHostile decodes each hostile line and an ordinary line of
// the same size: compare their ns/op (and B/op) per byte.
func BenchmarkDecodeHostile(b *testing.B) {
	lines := hostileLines(hostileSize)
	lines["ordinary"] = ordinaryLine(hostileSize)
	dc := &Decoder{Limits: wideLimits}
	for name, line := range lines {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				f := newFixture()
				if _, err := dc.Decode(line, f.target()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// manyKeysLine is a line whose attributes have n keys, as short as they
// come ("9c3f":1).
func manyKeysLine(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"format":"a","a":{"attributes":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%x":1`, i)
	}
	b.WriteString("}}}")
	return []byte(b.String())
}

// BenchmarkDecodeManyKeys decodes a line of 40000 keys (360 KB) and one of
// 1 MiB of keys, with limits wide enough to let them through.
func BenchmarkDecodeManyKeys(b *testing.B) {
	dc := &Decoder{Limits: wideLimits}
	for _, n := range []int{40000, 105000} {
		line := manyKeysLine(n)
		b.Run(fmt.Sprintf("%dkeys_%dKB", n, len(line)>>10), func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				f := newFixture()
				if _, err := dc.Decode(line, f.target()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
