package tenantbufferexporter

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
)

// Config of the tenantbuffer exporter. Every guard has a bounded default;
// switching one off takes the word "unlimited" (or -1) written out.
type Config struct {
	// Directory holds one sub-directory per tenant.
	Directory string `mapstructure:"directory"`
	// Tenant says how a record's tenant is found.
	Tenant TenantConfig `mapstructure:"tenant"`
	// Limits are the hard guards.
	Limits LimitsConfig `mapstructure:"limits"`
	// Retention bounds the age of buffered data.
	Retention RetentionConfig `mapstructure:"retention"`
	// Segments shape the files of a buffer.
	Segments SegmentsConfig `mapstructure:"segments"`
	// Consumers name the readers of every buffer, each with its own durable
	// position; a segment is removed once all of them have passed it.
	Consumers []string `mapstructure:"consumers"`
	// Durability sets when a write counts as done.
	Durability DurabilityConfig `mapstructure:"durability"`
	// IdleTimeout closes the files of a buffer not used for this long, and
	// removes a buffer that holds nothing unread.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// SweepInterval is how often retention, idle buffers, the free-disk
	// watermark and the largest tenants are checked.
	SweepInterval time.Duration `mapstructure:"sweep_interval"`
	// Telemetry shapes the exporter's own metrics.
	Telemetry TelemetryConfig `mapstructure:"telemetry"`
	// Push runs the push jobs (off unless a jobs source is set).
	Push PushConfig `mapstructure:"push"`
	// QueueConfig is off by default: with a queue, the pipeline is answered
	// before the record is on disk, which gives up the durability point.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
}

// TenantConfig finds the tenant of a record.
type TenantConfig struct {
	// Attribute holds the tenant key: the record's attribute, else the
	// resource's attribute of that name.
	Attribute string `mapstructure:"attribute"`
	// MaxLength refuses (and counts) longer tenant keys.
	MaxLength int `mapstructure:"max_length"`
	// Default is the tenant of records without the attribute; empty drops
	// them (counted with reason missing_tenant).
	Default string `mapstructure:"default"`
}

// LimitsConfig are the hard guards.
type LimitsConfig struct {
	MaxBuffers        int   `mapstructure:"max_buffers"`
	MaxBytesPerTenant Bytes `mapstructure:"max_bytes_per_tenant"`
	MaxTotalBytes     Bytes `mapstructure:"max_total_bytes"`
	MinFreeDiskBytes  Bytes `mapstructure:"min_free_disk_bytes"`
	MaxOpenFiles      int   `mapstructure:"max_open_files"`
	// OverflowTenant, when set, receives the records of new tenants once
	// max_buffers is reached (instead of refusing them).
	OverflowTenant string `mapstructure:"overflow_tenant"`
}

// RetentionConfig bounds the age of buffered data.
type RetentionConfig struct {
	MaxAge    Age            `mapstructure:"max_age"`
	PerTenant map[string]Age `mapstructure:"per_tenant"`
}

// SegmentsConfig shapes the files of a buffer.
type SegmentsConfig struct {
	MaxBytes       Bytes         `mapstructure:"max_bytes"`
	MaxAge         time.Duration `mapstructure:"max_age"`
	MaxRecordBytes Bytes         `mapstructure:"max_record_bytes"`
}

// DurabilityConfig sets the durability point.
type DurabilityConfig struct {
	// Fsync: when true (default) a ConsumeLogs call returns only after its
	// records are synced to disk (fdatasync per touched file, or one
	// syncfs for a call touching many tenants).
	Fsync bool `mapstructure:"fsync"`
}

// TelemetryConfig shapes the exporter's own metrics.
type TelemetryConfig struct {
	// TopTenants: per-tenant figures are published for this many of the
	// largest tenants only.
	TopTenants int `mapstructure:"top_tenants"`
}

// PushConfig configures the push jobs.
type PushConfig struct {
	// JobsFile or JobsURL gives the job document (one of them); with
	// neither, push is off.
	// The URL wins when both are set; the file is then not read.
	JobsFile string `mapstructure:"jobs_file"`
	JobsURL  string `mapstructure:"jobs_url"`
	// ReloadInterval: how often the document is fetched again.
	ReloadInterval time.Duration `mapstructure:"reload_interval"`
	// MaxRemovedFraction: a new document removing more than this fraction
	// of the jobs in force is refused (blank and unparsable ones always are).
	MaxRemovedFraction float64 `mapstructure:"max_removed_fraction"`
	// Unmatched: what happens to records of tenants without a job: "drop"
	// (counted, reason no_job) or "buffer" (kept, bounded by the limits).
	Unmatched string `mapstructure:"unmatched"`
	// Workers: pushes in flight at once, shared by all tenants.
	Workers int `mapstructure:"workers"`
	// QuantumBytes: deficit round robin credit per tenant per turn.
	QuantumBytes Bytes `mapstructure:"quantum_bytes"`
	// Backoff after a failed push, per tenant, doubling up to Max.
	BackoffInitial time.Duration `mapstructure:"backoff_initial"`
	BackoffMax     time.Duration `mapstructure:"backoff_max"`
	// BreakerFailures consecutive failures open the tenant's breaker for BreakerOpen.
	BreakerFailures int           `mapstructure:"breaker_failures"`
	BreakerOpen     time.Duration `mapstructure:"breaker_open"`
	// DeadLetter bounds the area where refused batches are parked.
	DeadLetter DeadLetterConfig `mapstructure:"dead_letter"`
	// Destinations is what a job document may ask for.
	Destinations DestinationsConfig `mapstructure:"destinations"`
}

// Enabled reports whether push jobs run.
func (p *PushConfig) Enabled() bool { return p.JobsFile != "" || p.JobsURL != "" }

// pushConsumer is the store consumer the push jobs move.
const pushConsumer = "push"

// Validate checks push's own options when push is on; the collector puts
// the group's path ("push: ") in front. Its dead_letter and destinations
// groups validate themselves.
func (p *PushConfig) Validate() error {
	if !p.Enabled() {
		return nil
	}
	var errs []error
	if p.JobsFile != "" && p.JobsURL != "" {
		errs = append(errs, errors.New("jobs_file and jobs_url are both set: write one of them (the job document has one source)"))
	}
	if p.ReloadInterval <= 0 {
		errs = append(errs, errors.New("reload_interval: must be > 0, e.g. 1m"))
	}
	if p.MaxRemovedFraction < 0 || p.MaxRemovedFraction > 1 {
		errs = append(errs, errors.New("max_removed_fraction: must be in [0, 1], e.g. 0.1 (1 switches the guard off)"))
	}
	if p.Unmatched != "drop" && p.Unmatched != "buffer" {
		errs = append(errs, fmt.Errorf("unmatched: %q; write drop or buffer", p.Unmatched))
	}
	if p.Workers <= 0 || p.Workers > 1024 {
		errs = append(errs, errors.New("workers: must be between 1 and 1024"))
	}
	if p.QuantumBytes <= 0 {
		errs = append(errs, errors.New("quantum_bytes: must be a positive size, e.g. 1MiB"))
	}
	if p.BackoffInitial <= 0 || p.BackoffMax < p.BackoffInitial {
		errs = append(errs, errors.New("backoff_initial must be > 0 and backoff_max >= it"))
	}
	if p.BreakerFailures <= 0 || p.BreakerOpen <= 0 {
		errs = append(errs, errors.New("breaker_failures and breaker_open must be > 0"))
	}
	return grouperr.Join(errs...)
}

func checkBytes(name string, v Bytes, allowZero bool) error {
	switch {
	case v.Unlimited():
		return nil
	case v < 0:
		return fmt.Errorf("%s: %d is not a size; write a positive size or %q", name, v, unlimitedWord)
	case v == 0 && !allowZero:
		return fmt.Errorf("%s: 0 would refuse everything; write a positive size, or %q to switch the guard off", name, unlimitedWord)
	}
	return nil
}

// Validate checks the exporter's own options. The nested groups (tenant,
// limits, retention, segments, telemetry, push and push's dead_letter and
// destinations) validate themselves: the collector calls their Validate too
// and puts the group's path in front.
func (c *Config) Validate() error {
	var errs []error
	if c.Directory == "" {
		errs = append(errs, errors.New("directory: required; write a directory for the buffers, e.g. ${env:LOGX_STATE_DIR}/tenantbuffer"))
	}
	if c.IdleTimeout <= 0 {
		errs = append(errs, errors.New("idle_timeout: must be > 0, e.g. 5m"))
	}
	if c.SweepInterval <= 0 {
		errs = append(errs, errors.New("sweep_interval: must be > 0, e.g. 10s"))
	}
	for i, name := range c.Consumers {
		if !buffers.ValidConsumerName(name) {
			errs = append(errs, fmt.Errorf("consumers[%d]: %q; write 1-64 characters of a-z, 0-9, _ and -", i, name))
		}
		for _, other := range c.Consumers[:i] {
			if other == name {
				errs = append(errs, fmt.Errorf("consumers: %q listed twice", name))
			}
		}
	}
	return errors.Join(errs...)
}

// Validate checks how the tenant is found; the collector puts the group's
// path ("tenant: ") in front.
func (t *TenantConfig) Validate() error {
	var errs []error
	if t.Attribute == "" {
		errs = append(errs, errors.New("attribute: required; e.g. logx.tenant"))
	}
	if t.MaxLength <= 0 {
		errs = append(errs, errors.New("max_length: must be > 0, e.g. 256"))
	}
	if len(t.Default) > t.MaxLength {
		errs = append(errs, errors.New("default: longer than max_length"))
	}
	return grouperr.Join(errs...)
}

// Validate checks the hard guards; the collector puts the group's path
// ("limits: ") in front.
func (l *LimitsConfig) Validate() error {
	var errs []error
	if l.MaxBuffers == 0 || l.MaxBuffers < -1 {
		errs = append(errs, fmt.Errorf("max_buffers: %d; write a positive number (e.g. 10000), or -1 to switch the buffer cap off", l.MaxBuffers))
	}
	errs = append(errs,
		checkBytes("max_bytes_per_tenant", l.MaxBytesPerTenant, false),
		checkBytes("max_total_bytes", l.MaxTotalBytes, false),
		checkBytes("min_free_disk_bytes", l.MinFreeDiskBytes, false),
	)
	if l.MaxOpenFiles <= 0 {
		errs = append(errs, errors.New("max_open_files: must be > 0, e.g. 256"))
	}
	return grouperr.Join(errs...)
}

// Validate checks the segment shape; the collector puts the group's path
// ("segments: ") in front.
func (s *SegmentsConfig) Validate() error {
	var errs []error
	errs = append(errs, checkBytes("max_record_bytes", s.MaxRecordBytes, false))
	if s.MaxBytes <= 0 {
		errs = append(errs, errors.New("max_bytes: must be a positive size, e.g. 16MiB"))
	}
	if s.MaxAge <= 0 {
		errs = append(errs, errors.New("max_age: must be > 0, e.g. 10m"))
	}
	if s.MaxRecordBytes.Unlimited() {
		errs = append(errs, errors.New("max_record_bytes: cannot be unlimited; write a size, e.g. 1MiB"))
	}
	return grouperr.Join(errs...)
}

// Validate checks the ages; the collector puts the group's path
// ("retention: ") in front.
func (r *RetentionConfig) Validate() error {
	var errs []error
	if r.MaxAge == 0 {
		errs = append(errs, fmt.Errorf("max_age: 0 would expire everything at once; write a duration (e.g. 72h) or %q", unlimitedWord))
	}
	for tenant, a := range r.PerTenant {
		if a == 0 {
			errs = append(errs, fmt.Errorf("per_tenant.%s: write a duration or %q", tenant, unlimitedWord))
		}
	}
	return grouperr.Join(errs...)
}

// Validate checks the metrics' bound; the collector puts the group's path
// ("telemetry: ") in front.
func (t *TelemetryConfig) Validate() error {
	if t.TopTenants < 0 || t.TopTenants > 1000 {
		return errors.New("top_tenants: must be between 0 and 1000")
	}
	return nil
}

// storeOptions translates the config for the storage engine.
func (c *Config) storeOptions() buffers.Options {
	ages := make(map[string]time.Duration, len(c.Retention.PerTenant))
	for k, v := range c.Retention.PerTenant {
		ages[k] = time.Duration(v)
	}
	minFree := int64(c.Limits.MinFreeDiskBytes)
	if minFree < 0 {
		minFree = 0 // unlimited: no watermark
	}
	return buffers.Options{
		Dir:              c.Directory,
		MaxBuffers:       c.Limits.MaxBuffers,
		MaxTenantBytes:   int64(c.Limits.MaxBytesPerTenant),
		MaxTotalBytes:    int64(c.Limits.MaxTotalBytes),
		MinFreeDiskBytes: minFree,
		MaxAge:           time.Duration(c.Retention.MaxAge),
		MaxAgeOverrides:  ages,
		SegmentBytes:     int64(c.Segments.MaxBytes),
		SegmentMaxAge:    c.Segments.MaxAge,
		MaxRecordBytes:   int(c.Segments.MaxRecordBytes),
		MaxOpenFiles:     c.Limits.MaxOpenFiles,
		IdleTimeout:      c.IdleTimeout,
		SweepInterval:    c.SweepInterval,
		OverflowTenant:   c.Limits.OverflowTenant,
		Consumers:        c.consumers(),
		Sync:             c.Durability.Fsync,
		TopN:             c.Telemetry.TopTenants,
	}
}

// consumers adds the push jobs' consumer to the configured ones.
func (c *Config) consumers() []string {
	if !c.Push.Enabled() {
		return c.Consumers
	}
	for _, n := range c.Consumers {
		if n == pushConsumer {
			return c.Consumers
		}
	}
	return append(append([]string(nil), c.Consumers...), pushConsumer)
}
