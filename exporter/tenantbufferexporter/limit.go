package tenantbufferexporter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// unlimitedWord is how a guard is switched off: it must be written out.
const unlimitedWord = "unlimited"

// Bytes is a byte count: an integer, a size such as "512MiB", or
// "unlimited" (stored as -1, which may also be written directly).
type Bytes int64

// Unlimited reports whether the value switches its guard off.
func (b Bytes) Unlimited() bool { return b == -1 }

var byteUnits = []struct {
	suffix string
	mult   int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}

// UnmarshalText parses "unlimited", "-1", "1024", "64KiB", "10GB".
func (b *Bytes) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if s == unlimitedWord {
		*b = -1
		return nil
	}
	mult := int64(1)
	for _, u := range byteUnits {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a byte size: write an integer, a size like 512MiB, or %q", string(text), unlimitedWord)
	}
	if n == -1 && mult == 1 {
		*b = -1
		return nil
	}
	if n < 0 || n > (1<<62)/mult {
		return fmt.Errorf("byte size %q out of range", string(text))
	}
	*b = Bytes(n * mult)
	return nil
}

// MarshalText writes the value back in a form UnmarshalText reads.
func (b Bytes) MarshalText() ([]byte, error) {
	if b.Unlimited() {
		return []byte(unlimitedWord), nil
	}
	return []byte(strconv.FormatInt(int64(b), 10)), nil
}

// Age is a duration such as "72h", or "unlimited" (keep forever).
type Age time.Duration

// Unlimited reports whether the age never expires.
func (a Age) Unlimited() bool { return a < 0 }

// UnmarshalText parses "unlimited" or a Go duration.
func (a *Age) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if s == unlimitedWord || s == "-1" {
		*a = -1
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not an age: write a duration like 72h, or %q", string(text), unlimitedWord)
	}
	if d < 0 {
		return errors.New("a negative age: write " + unlimitedWord + " to keep data forever")
	}
	*a = Age(d)
	return nil
}

// MarshalText writes the value back in a form UnmarshalText reads.
func (a Age) MarshalText() ([]byte, error) {
	if a.Unlimited() {
		return []byte(unlimitedWord), nil
	}
	return []byte(time.Duration(a).String()), nil
}
