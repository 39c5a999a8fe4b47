// Package jsonvalue writes pdata values as plain JSON (a map as an object,
// a slice as an array) for the cfjs1 codec and the logfile exporter's json
// format: one writer, so both agree on what a log's values become. They
// differ only in how a double is written (Doubles). OTLP's own JSON, with
// its typed wrappers, is another format (the tenantbuffer push jobs').
package jsonvalue // import "github.com/otelcol-logx/otelcol-logx/internal/jsonvalue"

import (
	"encoding/base64"
	"math"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-logx/otelcol-logx/internal/jsonstr"
)

// Doubles says how a double is written.
type Doubles uint8

const (
	// Shortest writes strconv's shortest form: 1.0 is "1", as a reader
	// that does not care for int against double expects.
	Shortest Doubles = iota
	// Marked always gives a double a '.' or an exponent ("1.0", "1e+300"),
	// so that a reader gives it back as a double, not an int.
	Marked
)

// Append writes v: a string through jsonstr, an int as an integer, a
// double as d says (NaN, +Inf and -Inf, which JSON has no numbers for, as
// the strings "NaN", "+Inf", "-Inf"), a bool, a map as an object, a slice
// as an array, bytes as a standard padded base64 string, and an empty
// value as null. It does not allocate beyond growing dst.
func Append(dst []byte, v pcommon.Value, d Doubles) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return jsonstr.Append(dst, v.Str())
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(dst, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		return appendDouble(dst, v.Double(), d)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(dst, v.Bool())
	case pcommon.ValueTypeMap:
		return AppendMap(dst, v.Map(), d)
	case pcommon.ValueTypeSlice:
		dst = append(dst, '[')
		for i, e := range v.Slice().All() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = Append(dst, e, d)
		}
		return append(dst, ']')
	case pcommon.ValueTypeBytes:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, v.Bytes().AsRaw())
		return append(dst, '"')
	default:
		return append(dst, "null"...)
	}
}

// AppendMap writes m as a JSON object, leaving out the keys in omit.
func AppendMap(dst []byte, m pcommon.Map, d Doubles, omit ...string) []byte {
	dst = append(dst, '{')
	first := true
	for k, v := range m.All() {
		if omitted(k, omit) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsonstr.Append(dst, k)
		dst = append(dst, ':')
		dst = Append(dst, v, d)
	}
	return append(dst, '}')
}

func omitted(k string, omit []string) bool {
	for _, o := range omit {
		if k == o {
			return true
		}
	}
	return false
}

func appendDouble(dst []byte, f float64, d Doubles) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"+Inf"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Inf"`...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
	if d == Marked {
		for _, c := range dst[start:] {
			if c == '.' || c == 'e' || c == 'E' {
				return dst
			}
		}
		dst = append(dst, ".0"...)
	}
	return dst
}
