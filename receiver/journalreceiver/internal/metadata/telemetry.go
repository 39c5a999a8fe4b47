package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Telemetry is the receiver's own instruments, beyond the accepted/refused
// counts that receiverhelper.ObsReport records.
type Telemetry struct {
	// EntriesRead counts entries parsed from journalctl's output.
	EntriesRead metric.Int64Counter
	// ParseErrors counts malformed export streams, by reason; each one
	// restarts journalctl after the last entry read.
	ParseErrors metric.Int64Counter
	// Restarts counts journalctl restarts, by reason (exited, parse_error).
	Restarts metric.Int64Counter
	// Dropped counts entries given up on, by reason (permanent_error: the
	// pipeline refused them with a permanent error).
	Dropped metric.Int64Counter
	// Truncated counts entries that had a value cut to max_entry_bytes.
	Truncated metric.Int64Counter
	// CursorLost counts restarts where the stored cursor no longer named an
	// entry (reason not_found: vacuumed or filters changed; invalid: unparsable).
	CursorLost metric.Int64Counter
	// CursorSaveErrors counts failed cursor writes (the next one retries).
	CursorSaveErrors metric.Int64Counter
}

// NewTelemetry creates the instruments from the component's meter provider.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	var errs, err error
	t := &Telemetry{}
	counter := func(name, desc, unit string) metric.Int64Counter {
		var c metric.Int64Counter
		c, err = m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = errors.Join(errs, err)
		return c
	}
	t.EntriesRead = counter("otelcol_logx_journal_entries_read", "Journal entries read from journalctl.", "{entry}")
	t.ParseErrors = counter("otelcol_logx_journal_parse_errors", "Malformed journalctl export output, by reason.", "{error}")
	t.Restarts = counter("otelcol_logx_journal_journalctl_restarts", "journalctl restarts, by reason.", "{restart}")
	t.Dropped = counter("otelcol_logx_journal_dropped", "Journal entries dropped, by reason.", "{entry}")
	t.Truncated = counter("otelcol_logx_journal_truncated", "Journal entries with values cut to max_entry_bytes.", "{entry}")
	t.CursorLost = counter("otelcol_logx_journal_cursor_lost", "Stored cursors that no longer named an entry, by reason.", "{event}")
	t.CursorSaveErrors = counter("otelcol_logx_journal_cursor_save_errors", "Failed cursor writes.", "{error}")
	return t, errs
}
