// Package buffers is the storage engine of the tenantbuffer exporter: one
// append-only, checksummed buffer per tenant on disk, with hard guards on
// the number of buffers and the bytes they hold, max-min fair reclaim of the
// total budget, retention, named consumers with durable positions, and
// per-tenant deletion.
//
// Cost per record does not depend on the number of tenants: tenants live in
// a sharded map (one short read lock per tenant batch), counters are atomic,
// and every scan over all tenants (retention, reclaim, top-N figures) runs
// in a background sweeper, never on the write path. No lock but the
// tenant's own is held across I/O.
package buffers // import "github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"

import (
	"errors"
	"fmt"
	"time"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/segment"
)

// Unlimited, as a value of a limit, turns that guard off. It has to be
// written out explicitly in the configuration.
const Unlimited = -1

// Reason says why a record was refused.
type Reason int

// Reasons a record is refused; String gives the metric attribute value.
const (
	ReasonMaxBuffers Reason = iota
	ReasonTenantBytes
	ReasonTotalBytes
	ReasonMinFreeDisk
	ReasonRecordTooLarge
	// ReasonTenantDir: the tenant's directory could not be created (the
	// file system refused it, or the name hashes to another tenant's).
	ReasonTenantDir
	// ReasonWriteError: the tenant's segment could not be opened or
	// written (e.g. the disk is full or failing).
	ReasonWriteError
	numReasons
)

var reasonNames = [numReasons]string{"max_buffers", "tenant_bytes", "total_bytes", "min_free_disk", "record_too_large", "tenant_dir", "write_error"}

func (r Reason) String() string { return reasonNames[r] }

// Reasons lists every reason, for telemetry.
func Reasons() []Reason {
	out := make([]Reason, numReasons)
	for i := range out {
		out[i] = Reason(i)
	}
	return out
}

// Options configure a Store. Zero values are not defaults: the exporter's
// config supplies every value, and Validate there refuses unbounded values
// that were not written out as Unlimited.
type Options struct {
	Dir              string
	MaxBuffers       int   // buffers (tenants) at once; Unlimited to turn off
	MaxTenantBytes   int64 // bytes per tenant; Unlimited to turn off
	MaxTotalBytes    int64 // bytes of all tenants; Unlimited to turn off
	MinFreeDiskBytes int64 // free bytes kept on the file system; 0 turns off
	MaxAge           time.Duration
	MaxAgeOverrides  map[string]time.Duration // per tenant; Unlimited (as a Duration) keeps forever
	SegmentBytes     int64
	SegmentMaxAge    time.Duration // the active segment rolls when its first record is this old
	MaxRecordBytes   int
	MaxOpenFiles     int
	IdleTimeout      time.Duration
	SweepInterval    time.Duration
	OverflowTenant   string // "" refuses new tenants at the buffer cap
	Consumers        []string
	Sync             bool // fsync before Append returns (the durability point)
	TopN             int
	Now              func() time.Time
	// ExternalBytes, when set, returns the bytes the store's owner keeps
	// on the same file system outside the tenant buffers (the push jobs'
	// dead-letter area). They count toward MaxTotalBytes and the free-disk
	// watermark like the buffers' own bytes: the buffers' share of the
	// budget is what they leave (Stats.BudgetBytes); a record is refused
	// once the buffers would pass it, and reclaim trims the buffers (never
	// the external bytes) from 95% of it down to 85%. Bytes on the same file
	// system are already out of its free space, so under the watermark they
	// leave the buffers' share as it was. It is called once
	// per Append and per sweep, from any goroutine: it must be cheap (an
	// atomic load) and safe for concurrent use. A negative value counts as 0.
	ExternalBytes func() int64
}

func (o *Options) check() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("buffers: Dir is empty"))
	}
	if o.SegmentBytes <= 0 {
		errs = append(errs, errors.New("buffers: SegmentBytes must be > 0"))
	}
	if o.SegmentMaxAge <= 0 {
		errs = append(errs, errors.New("buffers: SegmentMaxAge must be > 0"))
	}
	if o.MaxRecordBytes <= 0 || o.MaxRecordBytes > segment.MaxPayload {
		// A longer record would not fit the frame's 32-bit length field:
		// it would be written with a truncated length and read back as
		// corrupt.
		errs = append(errs, fmt.Errorf("buffers: MaxRecordBytes must be > 0 and at most %d", segment.MaxPayload))
	}
	if o.MaxOpenFiles <= 0 {
		errs = append(errs, errors.New("buffers: MaxOpenFiles must be > 0"))
	}
	if o.SweepInterval <= 0 {
		errs = append(errs, errors.New("buffers: SweepInterval must be > 0"))
	}
	if o.MaxBuffers == 0 || o.MaxBuffers < Unlimited {
		errs = append(errs, errors.New("buffers: MaxBuffers must be > 0 or Unlimited"))
	}
	for i, c := range o.Consumers {
		if !validConsumerName(c) {
			errs = append(errs, errors.New("buffers: consumer name "+c+" must be 1-64 of [a-z0-9_-]"))
		}
		for _, d := range o.Consumers[:i] {
			if c == d {
				errs = append(errs, errors.New("buffers: consumer "+c+" listed twice"))
			}
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return errors.Join(errs...)
}

func validConsumerName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidConsumerName reports whether s can name a consumer.
func ValidConsumerName(s string) bool { return validConsumerName(s) }
