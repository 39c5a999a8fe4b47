package ingest

import (
	"errors"
	"fmt"

	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
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

// DefaultMaxServices is the default bound of the fair share's table of
// services.
const DefaultMaxServices = 1024

// BufferConfig is the "buffer" option group of a receiver.
type BufferConfig struct {
	// MaxBytes bounds the memory of what is held while the consumer is
	// slow or refusing, as measured in recordcost.go.
	MaxBytes int64 `mapstructure:"max_bytes"`
	// Policy is what goes once MaxBytes is reached.
	Policy Policy `mapstructure:"policy"`
	// FairShare shares MaxBytes between services (fairshare.go).
	FairShare FairShareConfig `mapstructure:"fair_share"`
}

// FairShareConfig is the "buffer.fair_share" option group.
type FairShareConfig struct {
	// Enabled (unset: true) makes a full buffer drop from the service
	// holding the most, never from one holding less. Off, all services
	// share one queue and the policy alone decides, whoever the batch is
	// from.
	Enabled *bool `mapstructure:"enabled"`
	// MaxServices bounds the services tracked at once (only those with
	// something held count); beyond it, new ones share the holder
	// OverflowKey. 0 means DefaultMaxServices.
	MaxServices int `mapstructure:"max_services"`
}

// IsEnabled reports whether fair share is on (it is unless switched off).
func (c FairShareConfig) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }

func (c FairShareConfig) maxServices() int {
	if c.MaxServices <= 0 {
		return DefaultMaxServices
	}
	return c.MaxServices
}

// Validate checks the table's bound. The collector prefixes the message with
// the group's path (e.g. "buffer::fair_share: "), so it names the option
// inside the group only.
func (c FairShareConfig) Validate() error {
	if c.MaxServices < 0 || c.MaxServices > 1<<20 {
		return errors.New("max_services must be between 1 and 1048576 (0 for the default 1024); write e.g. 1024")
	}
	return nil
}

// DefaultBufferConfig returns a 64 MiB drop_newest buffer shared fairly
// between services (the zero FairShareConfig is on, with
// DefaultMaxServices).
func DefaultBufferConfig() BufferConfig {
	return BufferConfig{MaxBytes: DefaultMaxBytes, Policy: DropNewest}
}

// Validate checks the bound and the policy. The fair_share group validates
// itself; the collector prefixes each message with the group's path (e.g.
// "buffer: "), so messages name the option inside the group only.
func (c BufferConfig) Validate() error {
	var errs []error
	if c.MaxBytes < 2<<20 {
		errs = append(errs, errors.New("max_bytes must be at least 2097152 (2 MiB, room for a full batch); write e.g. 67108864 for 64 MiB"))
	}
	if c.Policy > DropOldest {
		errs = append(errs, errors.New(`policy: write "drop_newest" or "drop_oldest"`))
	}
	return grouperr.Join(errs...)
}
