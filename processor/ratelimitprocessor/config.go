package ratelimitprocessor

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
)

// Where a key field is read from.
const (
	fromAttribute = "attribute" // a log record attribute
	fromResource  = "resource"  // a resource attribute
	fromBody      = "body"      // a top-level field of a map body
)

// What happens to records at or above severity.threshold.
const (
	severityModeExempt = "exempt" // never dropped, not counted against the budget
	severityModeBudget = "budget" // a separate bucket per key
)

// Where summary records go.
const (
	summaryToPipeline = "pipeline"
	summaryToLogger   = "logger"
)

// Bounds that keep fixed-point token arithmetic in int64 (one token is 1e9
// units) and rates representable in thousandths.
const (
	maxBurst = 9_000_000_000
	minRate  = 0.001
	maxRate  = 1e12
)

// Config is the ratelimit processor's configuration.
type Config struct {
	// Key says which fields make the key that selects a bucket.
	Key KeyConfig `mapstructure:"key"`
	// Rate is the sustained number of records per second per key.
	Rate float64 `mapstructure:"rate"`
	// Burst is the bucket size: how many records a key may send at once
	// after being quiet.
	Burst int64 `mapstructure:"burst"`
	// Bytes optionally limits the body bytes per second per key as well.
	Bytes BytesConfig `mapstructure:"bytes"`
	// Overrides give exact keys their own limits.
	Overrides []OverrideConfig `mapstructure:"overrides"`
	// Severity treats records at or above a severity specially.
	Severity SeverityConfig `mapstructure:"severity"`
	// MaxKeys bounds the key table; new keys share the overflow bucket
	// while it is full.
	MaxKeys int `mapstructure:"max_keys"`
	// IdleTimeout is how long a key must be unused (and its bucket full)
	// before it is removed from the table.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// Overflow is the limit of the one bucket that new keys share while the
	// key table is full.
	Overflow LimitConfig `mapstructure:"overflow"`
	// Summary configures the periodic "N records dropped" log records.
	Summary SummaryConfig `mapstructure:"summary"`
	// Metrics configures the per-key drop counters.
	Metrics MetricsConfig `mapstructure:"metrics"`
	// DryRun counts what would be dropped, and drops nothing.
	DryRun bool `mapstructure:"dry_run"`
}

// KeyConfig names the fields that make the key.
type KeyConfig struct {
	Fields []FieldConfig `mapstructure:"fields"`
	// DefaultValue is the key of records that have none of the fields.
	DefaultValue string `mapstructure:"default_value"`
}

// FieldConfig is one field of the key.
type FieldConfig struct {
	// From is attribute, resource or body.
	From string `mapstructure:"from"`
	// Name is the attribute name, or the top-level field of a map body.
	Name string `mapstructure:"name"`
}

// LimitConfig is a record rate and burst.
type LimitConfig struct {
	Rate  float64 `mapstructure:"rate"`
	Burst int64   `mapstructure:"burst"`
}

// BytesConfig is a limit in body bytes per second; Rate 0 turns it off.
type BytesConfig struct {
	Rate  int64 `mapstructure:"rate"`
	Burst int64 `mapstructure:"burst"`
}

// OverrideConfig gives one exact key its own limits.
type OverrideConfig struct {
	// Key is the key's value when the key has one field.
	Key string `mapstructure:"key"`
	// Values are the key's field values, in the order of key.fields, when
	// the key has several fields.
	Values []string `mapstructure:"values"`
	Rate   float64  `mapstructure:"rate"`
	Burst  int64    `mapstructure:"burst"`
	// Bytes, when set, replaces the top-level bytes limit for this key.
	Bytes *BytesConfig `mapstructure:"bytes"`
}

// SeverityConfig treats records at or above Threshold specially.
type SeverityConfig struct {
	// Threshold is an OTel severity name (TRACE, DEBUG, INFO, WARN, ERROR,
	// FATAL, optionally with 2..4) or number 1..24; empty turns it off.
	Threshold string `mapstructure:"threshold"`
	// Mode is exempt (never drop) or budget (a separate bucket per key).
	Mode string `mapstructure:"mode"`
	// Rate and Burst are the separate budget (mode budget only).
	Rate  float64 `mapstructure:"rate"`
	Burst int64   `mapstructure:"burst"`
}

// SummaryConfig configures the periodic summary log records.
type SummaryConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Interval between summaries.
	Interval time.Duration `mapstructure:"interval"`
	// Destination is pipeline (records sent to the next consumer) or
	// logger (the collector's own log).
	Destination string `mapstructure:"destination"`
	// MaxRecords bounds the summaries per interval; further keys are folded
	// into one "other keys" summary.
	MaxRecords int `mapstructure:"max_records"`
}

// MetricsConfig bounds the cardinality of the per-key drop counter.
type MetricsConfig struct {
	// TopKeys is how many distinct keys may ever get their own value of the
	// key attribute; the rest are counted as "other".
	TopKeys int `mapstructure:"top_keys"`
	// Interval between flushes of the per-key counts into the counter.
	Interval time.Duration `mapstructure:"interval"`
}

var _ component.Config = (*Config)(nil)

// Validate checks the processor's own options (rate, burst, max_keys,
// idle_timeout) and what spans groups (each override against key.fields,
// and overrides against each other), saying what to write instead. The
// nested groups (key and its fields, bytes, each override, severity,
// overflow, summary, metrics) validate themselves: the collector calls their
// Validate too and puts the group's path in front.
func (c *Config) Validate() error {
	return errors.Join(
		validateLimit(c.Rate, c.Burst),
		c.validateOverrideShapes(),
		c.validateOverrideKeysUnique(),
		c.validateTable(),
	)
}

// validateOverrideShapes checks that each override names its key the way
// key.fields has it: key for a one-field key, one value per field otherwise.
func (c *Config) validateOverrideShapes() error {
	var errs []error
	for i, o := range c.Overrides {
		p := fmt.Sprintf("overrides[%d]", i)
		switch {
		case len(o.Values) > 0 && o.Key == "" && len(o.Values) != len(c.Key.Fields):
			errs = append(errs, fmt.Errorf("%s.values has %d entries but key.fields has %d: give one value per key field", p, len(o.Values), len(c.Key.Fields)))
		case len(o.Values) == 0 && len(c.Key.Fields) > 1 && o.Key != c.Key.DefaultValue:
			errs = append(errs, fmt.Errorf("%s: the key has %d fields, so write values: [one value per field] instead of key (key is only for key.default_value)", p, len(c.Key.Fields)))
		}
	}
	return errors.Join(errs...)
}

// validateOverrideKeysUnique refuses two overrides of the same key.
func (c *Config) validateOverrideKeysUnique() error {
	var errs []error
	seen := map[string]int{}
	for i, o := range c.Overrides {
		k := overrideKey(o)
		if j, dup := seen[k]; dup {
			errs = append(errs, fmt.Errorf("overrides[%d] repeats the key of overrides[%d]: keep one", i, j))
		}
		seen[k] = i
	}
	return errors.Join(errs...)
}

// validateTable checks the key table's bound and idle timeout.
func (c *Config) validateTable() error {
	var errs []error
	if c.MaxKeys <= 0 {
		errs = append(errs, fmt.Errorf("max_keys is %d: write a positive bound, e.g. 10000; memory grows with it (at most about 300 bytes per key)", c.MaxKeys))
	}
	if c.IdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("idle_timeout is %v: write a positive duration, e.g. 5m", c.IdleTimeout))
	}
	return errors.Join(errs...)
}

// Validate checks that the key has fields; each field validates itself.
// The collector puts the group's path ("key: ") in front.
func (k KeyConfig) Validate() error {
	if len(k.Fields) == 0 {
		return errors.New(`fields is empty: name at least one field, e.g. "fields: [{from: attribute, name: logx.service}]"`)
	}
	return nil
}

// Validate checks one key field; the collector puts its path
// ("key::fields::0: ") in front.
func (f FieldConfig) Validate() error {
	var errs []error
	switch f.From {
	case fromAttribute, fromResource, fromBody:
	default:
		errs = append(errs, fmt.Errorf("from is %q: write attribute, resource or body", f.From))
	}
	if f.Name == "" {
		errs = append(errs, errors.New("name is empty: write the attribute (or body field) name, e.g. logx.service"))
	}
	return grouperr.Join(errs...)
}

// Validate checks the record limit; the collector puts the group's path
// (e.g. "overflow: ") in front.
func (l LimitConfig) Validate() error { return validateLimit(l.Rate, l.Burst) }

// Validate checks the bytes limit, unless it is off; the collector puts the
// group's path (e.g. "bytes: ") in front.
func (b BytesConfig) Validate() error {
	if b.Rate == 0 && b.Burst == 0 {
		return nil
	}
	var errs []error
	if b.Rate <= 0 || b.Rate > maxRate {
		errs = append(errs, fmt.Errorf("rate is %d: write bytes per second (e.g. 1048576), or 0 with burst 0 to turn the bytes limit off", b.Rate))
	}
	if b.Burst < 1 || b.Burst > maxBurst {
		errs = append(errs, fmt.Errorf("burst is %d: write a number of bytes between 1 and %d, e.g. 2 × rate", b.Burst, int64(maxBurst)))
	}
	return grouperr.Join(errs...)
}

// Validate checks one override's own options (its bytes group validates
// itself); the collector puts its path ("overrides::0: ") in front.
func (o OverrideConfig) Validate() error {
	var errs []error
	if o.Key != "" && len(o.Values) > 0 {
		errs = append(errs, errors.New("sets both key and values: use key for a one-field key, values for a key of several fields"))
	}
	errs = append(errs, validateLimit(o.Rate, o.Burst))
	return grouperr.Join(errs...)
}

// Validate checks the threshold, the mode and, for mode budget, its limit;
// the collector puts the group's path ("severity: ") in front.
func (s SeverityConfig) Validate() error {
	if s.Threshold == "" {
		return nil
	}
	var errs []error
	if _, err := parseSeverity(s.Threshold); err != nil {
		errs = append(errs, fmt.Errorf("threshold: %w", err))
	}
	switch s.Mode {
	case severityModeExempt:
	case severityModeBudget:
		errs = append(errs, validateLimit(s.Rate, s.Burst))
	default:
		errs = append(errs, fmt.Errorf("mode is %q: write exempt (never drop) or budget (separate rate and burst)", s.Mode))
	}
	return grouperr.Join(errs...)
}

// Validate checks the summaries when they are on; the collector puts the
// group's path ("summary: ") in front.
func (s SummaryConfig) Validate() error {
	if !s.Enabled {
		return nil
	}
	var errs []error
	if s.Interval < time.Second {
		errs = append(errs, fmt.Errorf("interval is %v: write at least 1s, e.g. 1m", s.Interval))
	}
	if s.Destination != summaryToPipeline && s.Destination != summaryToLogger {
		errs = append(errs, fmt.Errorf("destination is %q: write pipeline or logger", s.Destination))
	}
	if s.MaxRecords <= 0 {
		errs = append(errs, fmt.Errorf("max_records is %d: write a positive bound, e.g. 100", s.MaxRecords))
	}
	return grouperr.Join(errs...)
}

// Validate checks the counters' bound and flush interval; the collector
// puts the group's path ("metrics: ") in front.
func (m MetricsConfig) Validate() error {
	var errs []error
	if m.TopKeys < 0 {
		errs = append(errs, fmt.Errorf("top_keys is %d: write 0 (all keys counted as other) or a small positive number, e.g. 20", m.TopKeys))
	}
	if m.Interval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("interval is %v: write at least 100ms, e.g. 10s", m.Interval))
	}
	return grouperr.Join(errs...)
}

// validateLimit checks a record rate and burst, named as written inside
// their group.
func validateLimit(rate float64, burst int64) error {
	var errs []error
	if math.IsNaN(rate) || rate < minRate || rate > maxRate {
		errs = append(errs, fmt.Errorf("rate is %v: write records per second between %v and %v, e.g. 1000", rate, minRate, maxRate))
	}
	if burst < 1 || burst > maxBurst {
		errs = append(errs, fmt.Errorf("burst is %d: write a whole number of records between 1 and %d, e.g. 2 × rate", burst, int64(maxBurst)))
	}
	return grouperr.Join(errs...)
}

// keySep joins the values of a key of several fields inside the table;
// displaySep joins them for people (metrics, summaries).
const (
	keySep     = '\x00'
	displaySep = "|"
)

func overrideKey(o OverrideConfig) string {
	if len(o.Values) > 0 {
		return strings.Join(o.Values, string(keySep))
	}
	return o.Key
}

func displayKey(k string) string { return strings.ReplaceAll(k, string(keySep), displaySep) }
