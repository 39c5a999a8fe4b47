package cfjs1

import (
	"fmt"

	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
)

// Limits bound what one line may make the decoder build. A line over any of
// them is refused whole (an error wrapping ErrTooManyMembers,
// ErrTooManyValues or ErrTooDeep), never cut short. Decoding time is linear
// in the line whatever it holds; these bound its memory: pdata spends tens of
// bytes on each value however short its JSON (`1,` is two bytes), so the
// values of a line, not its length, are what must be capped.
type Limits struct {
	// MaxMembers bounds the members of any one object: the top-level
	// object, the wrapper, attributes, resource, scope and every nested
	// map. Default 10000.
	MaxMembers int `mapstructure:"max_members"`
	// MaxValues bounds the values of a line that become part of the record:
	// the message, each attributes and resource object and each of their
	// members, each of the wrapper's other fields, and every member of a
	// map and element of an array in them, at any depth. Default 100000.
	MaxValues int `mapstructure:"max_values"`
	// MaxDepth bounds how many maps and arrays may nest in one another in a
	// value of the record (the message, an attribute, a resource
	// attribute): {"a":[1]} is 2 deep. Default 64.
	MaxDepth int `mapstructure:"max_depth"`
}

// The defaults, and the largest values Validate accepts.
const (
	DefaultMaxMembers = 10_000
	DefaultMaxValues  = 100_000
	DefaultMaxDepth   = 64

	// limitMaxValues keeps node indexes in an int32 and a line's worst
	// case memory within a few hundred MiB.
	limitMaxValues = 4_000_000
	// limitMaxDepth keeps the recursive parser's stack small.
	limitMaxDepth = 1000
)

// A map or array costs pdata two or three allocations however short its
// JSON (`[]` is two bytes): a line that is mostly maps and arrays costs
// over ten times an ordinary line's CPU per byte, from the decoder to the
// exporter of the next hop. So besides MaxValues and MaxDepth, a line may
// hold freeContainers maps and arrays in its record's values, and one
// more per bytesPerContainer bytes of its length: their cost grows with
// the line's length, whatever its shape. An ordinary record has two (its
// attributes and resource); structured values spend far more than 16
// bytes of keys and scalars on each map or array.
const (
	freeContainers    = 16
	bytesPerContainer = 16
)

// containerBudget is how many maps and arrays a line of n bytes may hold.
func containerBudget(n int) int { return freeContainers + n/bytesPerContainer }

// DefaultLimits returns the limits a decoder uses unless told otherwise.
func DefaultLimits() Limits {
	return Limits{MaxMembers: DefaultMaxMembers, MaxValues: DefaultMaxValues, MaxDepth: DefaultMaxDepth}
}

// Validate says what is wrong with l, and what to write instead.
func (l Limits) Validate() error {
	var errs []error
	if l.MaxMembers < 1 || l.MaxMembers > limitMaxValues {
		errs = append(errs, fmt.Errorf("max_members must be between 1 and %d (default %d)", limitMaxValues, DefaultMaxMembers))
	}
	if l.MaxValues < 1 || l.MaxValues > limitMaxValues {
		errs = append(errs, fmt.Errorf("max_values must be between 1 and %d (default %d)", limitMaxValues, DefaultMaxValues))
	}
	if l.MaxDepth < 1 || l.MaxDepth > limitMaxDepth {
		errs = append(errs, fmt.Errorf("max_depth must be between 1 and %d (default %d)", limitMaxDepth, DefaultMaxDepth))
	}
	return grouperr.Join(errs...)
}

// orDefaults returns l with every limit that is not set (zero or less)
// replaced by its default, and every limit above its ceiling lowered to it:
// a decoder is never without its guards.
func (l Limits) orDefaults() Limits {
	set := func(v, def, ceiling int) int {
		if v <= 0 {
			return def
		}
		return min(v, ceiling)
	}
	return Limits{
		MaxMembers: set(l.MaxMembers, DefaultMaxMembers, limitMaxValues),
		MaxValues:  set(l.MaxValues, DefaultMaxValues, limitMaxValues),
		MaxDepth:   set(l.MaxDepth, DefaultMaxDepth, limitMaxDepth),
	}
}

// Decoder decodes lines with its wrapper mapping and limits. The zero
// Decoder uses no wrapper mapping and DefaultLimits; it is safe for use by
// goroutines at once.
type Decoder struct {
	// Wrappers, if not nil, is checked: see Decode.
	Wrappers Wrappers
	// Limits bound each line; a limit left zero takes its default.
	Limits Limits
}

// Decode decodes line into t as the package's Decode does, within dc's
// limits.
func (dc *Decoder) Decode(line []byte, t Target) (Meta, error) {
	d := decoderPool.Get().(*decoder)
	d.lim = dc.Limits.orDefaults()
	m, err := d.decode(line, dc.Wrappers, t)
	d.release()
	return m, err
}
