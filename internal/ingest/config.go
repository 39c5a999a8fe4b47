package ingest

import (
	"errors"
	"fmt"
)

// Policy says which data goes when the buffer is full.
type Policy uint8

const (
	// DropNewest refuses what arrives while the buffer is full: what is
	// held is delivered first, once the consumer recovers.
	DropNewest Policy = iota
	// DropOldest evicts the oldest held batches to make room, so that what
	// is delivered after an outage is the most recent.
	DropOldest
)

var policyNames = [...]string{DropNewest: "drop_newest", DropOldest: "drop_oldest"}

// String returns the configuration name of the policy.
func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("Policy(%d)", p)
}

// MarshalText implements encoding.TextMarshaler.
func (p Policy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText accepts "drop_newest" or "drop_oldest".
func (p *Policy) UnmarshalText(text []byte) error {
	for i, n := range policyNames {
		if string(text) == n {
			*p = Policy(i)
			return nil
		}
	}
	return fmt.Errorf("buffer policy %q is not known: write \"drop_newest\" or \"drop_oldest\"", text)
}

// DefaultMaxBytes is the default bound of a Stage.
const DefaultMaxBytes = 64 << 20

// RecordOverhead is what each held record counts for in addition to the
// length of its message: an estimate of the memory of its parsed form.
const RecordOverhead = 512

// BufferConfig is the "buffer" option group of a receiver.
type BufferConfig struct {
	// MaxBytes bounds what is held while the consumer is slow or refusing:
	// message bytes plus RecordOverhead per record.
	MaxBytes int64 `mapstructure:"max_bytes"`
	// Policy is what goes once MaxBytes is reached.
	Policy Policy `mapstructure:"policy"`
}

// DefaultBufferConfig returns a 64 MiB drop_newest buffer.
func DefaultBufferConfig() BufferConfig {
	return BufferConfig{MaxBytes: DefaultMaxBytes, Policy: DropNewest}
}

// Validate checks the bound.
func (c BufferConfig) Validate() error {
	if c.MaxBytes < 2<<20 {
		return errors.New("buffer.max_bytes must be at least 2097152 (2 MiB, room for a full batch); write e.g. 67108864 for 64 MiB")
	}
	if c.Policy > DropOldest {
		return errors.New(`buffer.policy: write "drop_newest" or "drop_oldest"`)
	}
	return nil
}
