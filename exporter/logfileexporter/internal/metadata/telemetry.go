package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Reasons of dropped records (attribute "reason").
const (
	ReasonDiskMaxTotal = "disk_max_total"  // disk_guard.max_total_bytes reached
	ReasonDiskMinFree  = "disk_min_free"   // free space below disk_guard.min_free_bytes
	ReasonOpen         = "open_error"      // the file (or its directory) could not be created or opened
	ReasonWrite        = "write_error"     // the write to the file failed
	ReasonTooLong      = "record_too_long" // one formatted record above max_record_bytes
	ReasonSymlink      = "symlink"         // a symbolic link where a log file or a directory below the template's fixed part should be
)

// ReasonMaxPaths is why a record went to the overflow file (attribute
// "reason" of RecordsOverflowed): its path would have passed max_paths.
const ReasonMaxPaths = "max_paths"

// Telemetry is the exporter's own instruments.
type Telemetry struct {
	RecordsWritten    metric.Int64Counter
	BytesWritten      metric.Int64Counter
	RecordsDropped    metric.Int64Counter // attribute reason
	RecordsOverflowed metric.Int64Counter // attribute reason: max_paths
	Rotations         metric.Int64Counter
	CompressionErrors metric.Int64Counter
	Reopens           metric.Int64Counter // attribute reason: moved, sighup
	RemovedFiles      metric.Int64Counter // attribute reason: max_backups, max_age
}

// NewTelemetry creates the instruments.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	t := &Telemetry{}
	var errs, err error
	t.RecordsWritten, err = m.Int64Counter("otelcol_logx_logfile_records_written",
		metric.WithDescription("Log records written to files (buffered until the next flush)."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.BytesWritten, err = m.Int64Counter("otelcol_logx_logfile_bytes_written",
		metric.WithDescription("Bytes written to files, before compression."), metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.RecordsDropped, err = m.Int64Counter("otelcol_logx_logfile_records_dropped",
		metric.WithDescription("Log records not written, by reason."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.RecordsOverflowed, err = m.Int64Counter("otelcol_logx_logfile_records_overflowed",
		metric.WithDescription("Log records written to the overflow file instead of their own path, by reason (also counted as written)."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.Rotations, err = m.Int64Counter("otelcol_logx_logfile_rotations",
		metric.WithDescription("Files rotated (by size or time)."), metric.WithUnit("{files}"))
	errs = errors.Join(errs, err)
	t.CompressionErrors, err = m.Int64Counter("otelcol_logx_logfile_compression_errors",
		metric.WithDescription("Rotated files left uncompressed because compression failed or its queue was full."), metric.WithUnit("{files}"))
	errs = errors.Join(errs, err)
	t.Reopens, err = m.Int64Counter("otelcol_logx_logfile_reopens",
		metric.WithDescription("Files reopened because they were moved or removed, or on SIGHUP."), metric.WithUnit("{files}"))
	errs = errors.Join(errs, err)
	t.RemovedFiles, err = m.Int64Counter("otelcol_logx_logfile_removed_files",
		metric.WithDescription("Rotated files removed by retention, by reason (max_backups, max_age)."), metric.WithUnit("{files}"))
	errs = errors.Join(errs, err)
	return t, errs
}
