package journalreceiver

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
)

// Config is the journal receiver's configuration.
type Config struct {
	// Reader is how the journal is read: "direct" (the journal files
	// themselves, internal/journalfile) or "journalctl" (journalctl
	// --output=export as a child process).
	Reader string `mapstructure:"reader"`
	// JournalctlPath is the journalctl binary, looked up in PATH if bare
	// (reader: journalctl).
	JournalctlPath string `mapstructure:"journalctl_path"`
	// Directory reads the journal files in a directory (journalctl
	// --directory) instead of the system journal.
	Directory string `mapstructure:"directory"`
	// Files reads these journal files (journalctl --file) instead of the
	// system journal.
	Files []string `mapstructure:"files"`
	// StartAt is where to begin when no cursor is stored: "end" (only new
	// entries), "beginning" (everything the journal still holds) or
	// "overlap" (entries from Overlap before the first start on).
	StartAt string `mapstructure:"start_at"`
	// Overlap is how far before its first start the receiver reads with
	// start_at: overlap. It covers the gap between the previous log daemon
	// stopping its own journal reading and this receiver starting: entries
	// of that gap are read, at the price of reading again, as duplicates,
	// what the previous daemon forwarded in the same span.
	Overlap time.Duration `mapstructure:"overlap"`

	// Units keeps entries of these systemd units (journalctl --unit).
	Units []string `mapstructure:"units"`
	// Identifiers keeps entries with these SYSLOG_IDENTIFIERs (--identifier).
	Identifiers []string `mapstructure:"identifiers"`
	// Priority keeps entries of this priority or more severe (--priority):
	// 0..7 or emerg, alert, crit, err, warning, notice, info, debug.
	Priority string `mapstructure:"priority"`
	// Matches are journalctl match arguments: "FIELD=value", or "+" between
	// groups to OR them.
	Matches []string `mapstructure:"matches"`

	// Fields chooses which journal fields become attributes.
	Fields FieldsConfig `mapstructure:"fields"`
	// InvalidUTF8 says what becomes of a MESSAGE or field value that is not
	// valid UTF-8: "replace" (invalid bytes become U+FFFD, a string value)
	// or "bytes" (the raw bytes, a bytes value).
	InvalidUTF8 string `mapstructure:"invalid_utf8"`
	// DefaultService is written to logx.service when an entry has neither
	// _SYSTEMD_UNIT nor SYSLOG_IDENTIFIER; empty leaves it out.
	DefaultService string `mapstructure:"default_service"`

	// Storage is a storage extension (e.g. file_storage) that keeps the
	// cursor. Without it the cursor goes to a file in CursorDirectory.
	Storage *component.ID `mapstructure:"storage"`
	// CursorDirectory holds the cursor file when Storage is not set.
	CursorDirectory string `mapstructure:"cursor_directory"`

	// MaxEntryBytes bounds one entry (field names and values); longer values
	// are cut, and counted.
	MaxEntryBytes int `mapstructure:"max_entry_bytes"`
	// Batch bounds what is sent to the pipeline at once.
	Batch BatchConfig `mapstructure:"batch"`
	// Buffer bounds what is read but not yet accepted by the pipeline,
	// shared fairly between services; the batcher waits while it is full
	// (the journal keeps what is not read yet), so nothing is dropped for
	// room. Its policy only matters for a request held for retry.
	Buffer ingest.BufferConfig `mapstructure:"buffer"`
	// RetryOnFailure paces retries while the pipeline refuses a batch.
	RetryOnFailure BackoffConfig `mapstructure:"retry_on_failure"`
	// Restart paces journalctl restarts when it exits.
	Restart BackoffConfig `mapstructure:"restart"`
}

// FieldsConfig chooses the journal fields kept as attributes. MESSAGE (the
// body), __CURSOR and __REALTIME_TIMESTAMP (the timestamp) are left out of
// "all", but may be listed in Include.
type FieldsConfig struct {
	// Include lists the fields to keep; empty keeps all.
	Include []string `mapstructure:"include"`
	// Exclude lists fields to leave out of "all".
	Exclude []string `mapstructure:"exclude"`
}

// BatchConfig bounds a batch: it is sent when either bound is reached, or
// FlushInterval after its first entry.
type BatchConfig struct {
	MaxEntries    int           `mapstructure:"max_entries"`
	MaxBytes      int           `mapstructure:"max_bytes"`
	FlushInterval time.Duration `mapstructure:"flush_interval"`
}

// BackoffConfig is an exponential backoff: the delay doubles from
// InitialInterval up to MaxInterval, and retries never stop.
type BackoffConfig struct {
	InitialInterval time.Duration `mapstructure:"initial_interval"`
	MaxInterval     time.Duration `mapstructure:"max_interval"`
}

var _ component.Config = (*Config)(nil)

// The readers.
const (
	readerDirect     = "direct"
	readerJournalctl = "journalctl"
)

// Bounds of the numeric options.
const (
	minEntryBytes   = 1 << 10
	maxEntryBytes   = 64 << 20
	maxBatchEntries = 100_000
	maxBatchBytes   = 256 << 20
)

// priorityNames are journalctl's priority names, index = priority.
var priorityNames = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// Validate checks the receiver's own options and says what to write
// instead. The nested groups (fields, batch, buffer, retry_on_failure,
// restart) validate themselves: the collector calls their Validate too and
// prefixes the messages with the group's path.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	switch c.Reader {
	case readerDirect:
		// The direct reader builds journalctl's matches itself; those it
		// cannot build are refused here rather than read differently.
		if _, err := newMatcher(c); err != nil {
			errs = append(errs, err)
		}
	case readerJournalctl:
	default:
		add("reader %q: write \"direct\" (read the journal files, the default) or \"journalctl\" (run journalctl --output=export)", c.Reader)
	}
	if c.JournalctlPath == "" {
		add("journalctl_path is empty: leave it out for \"journalctl\" from PATH, or write its full path")
	}
	if c.Directory != "" && len(c.Files) > 0 {
		add("directory and files are both set: use one of them (or neither, for the system journal)")
	}
	for _, f := range c.Files {
		if f == "" {
			add("files has an empty entry: write journal file paths, e.g. /var/log/journal/ID/system.journal")
		}
	}
	if err := c.validateStart(); err != nil {
		errs = append(errs, err)
	}
	for _, u := range c.Units {
		if u == "" || strings.ContainsAny(u, "\n") {
			add("units has an empty or multi-line entry %q: write unit names, e.g. nginx.service", u)
		}
	}
	for _, id := range c.Identifiers {
		if id == "" || strings.ContainsAny(id, "\n") {
			add("identifiers has an empty or multi-line entry %q: write SYSLOG_IDENTIFIER values, e.g. sshd", id)
		}
	}
	if c.Priority != "" {
		if _, ok := parsePriority(c.Priority); !ok {
			add("priority %q: write 0..7 or one of %s (entries of that priority and more severe are kept)", c.Priority, strings.Join(priorityNames, ", "))
		}
	}
	for _, m := range c.Matches {
		if err := checkMatch(m); err != nil {
			errs = append(errs, err)
		}
	}
	if c.InvalidUTF8 != "replace" && c.InvalidUTF8 != "bytes" {
		add("invalid_utf8 %q: write \"replace\" (U+FFFD for invalid bytes) or \"bytes\" (raw bytes value)", c.InvalidUTF8)
	}
	if c.Storage == nil && c.CursorDirectory == "" {
		add("no place for the cursor: set storage: file_storage (a storage extension in service.extensions) or cursor_directory: /var/lib/otelcol-logx, so a restart neither loses nor repeats entries")
	}
	if c.Storage != nil && c.CursorDirectory != "" {
		add("storage and cursor_directory are both set: the cursor is kept in one place; remove one")
	}
	if c.MaxEntryBytes < minEntryBytes || c.MaxEntryBytes > maxEntryBytes {
		add("max_entry_bytes %d: write a value from %d to %d (default 1048576)", c.MaxEntryBytes, minEntryBytes, maxEntryBytes)
	}
	return errors.Join(errs...)
}

// maxOverlap bounds overlap: a first start that reads further back is a
// backlog, better asked for with start_at: beginning.
const maxOverlap = 24 * time.Hour

// validateStart checks start_at and overlap together: an overlap that
// start_at does not use would be a silent no-op, so it is refused.
func (c *Config) validateStart() error {
	switch c.StartAt {
	case "end", "beginning":
		if c.Overlap != 0 {
			return fmt.Errorf("overlap %v is used only with start_at: overlap (start_at is %q): write start_at: overlap, or remove overlap", c.Overlap, c.StartAt)
		}
	case "overlap":
		if c.Overlap <= 0 || c.Overlap > maxOverlap {
			return fmt.Errorf("start_at: overlap needs overlap between 1s and %v (got %v): how long before the first start to read from, e.g. overlap: 5m", maxOverlap, c.Overlap)
		}
		if c.Overlap < time.Second {
			return fmt.Errorf("overlap %v is below 1s: write e.g. overlap: 5m (journal timestamps are compared with the clock, which may be off by more)", c.Overlap)
		}
	default:
		return fmt.Errorf("start_at %q: write \"end\" (only new entries), \"beginning\" (all the journal holds) or \"overlap\" (with overlap: 5m, entries from 5 minutes before the first start)", c.StartAt)
	}
	return nil
}

// Validate checks the backoff; the collector prefixes its message with the
// group's path (retry_on_failure or restart).
func (b BackoffConfig) Validate() error {
	if b.InitialInterval <= 0 || b.MaxInterval < b.InitialInterval {
		return fmt.Errorf("initial_interval must be positive and max_interval at least initial_interval (got %v, %v), e.g. 100ms and 5s", b.InitialInterval, b.MaxInterval)
	}
	return nil
}

// Validate checks the field lists; the collector prefixes its messages with
// "fields: ".
func (f FieldsConfig) Validate() error {
	var errs []error
	if len(f.Include) > 0 && len(f.Exclude) > 0 {
		errs = append(errs, errors.New("include and exclude are both set: list the fields to keep in include, or those to leave out of all in exclude"))
	}
	for _, name := range append(append([]string{}, f.Include...), f.Exclude...) {
		if _, ok := checkFieldName([]byte(name)); !ok {
			errs = append(errs, fmt.Errorf("%q is not a journal field name: write names like _SYSTEMD_UNIT or SYSLOG_IDENTIFIER", name))
		}
	}
	return grouperr.Join(errs...)
}

// Validate checks the batch bounds; the collector prefixes its messages with
// "batch: ".
func (b BatchConfig) Validate() error {
	var errs []error
	if b.MaxEntries < 1 || b.MaxEntries > maxBatchEntries {
		errs = append(errs, fmt.Errorf("max_entries %d: write a value from 1 to %d (default 1000)", b.MaxEntries, maxBatchEntries))
	}
	if b.MaxBytes < minEntryBytes || b.MaxBytes > maxBatchBytes {
		errs = append(errs, fmt.Errorf("max_bytes %d: write a value from %d to %d (default 4194304)", b.MaxBytes, minEntryBytes, maxBatchBytes))
	}
	if b.FlushInterval <= 0 {
		errs = append(errs, errors.New("flush_interval must be positive, e.g. 200ms"))
	}
	return grouperr.Join(errs...)
}

func parsePriority(s string) (int, bool) {
	if len(s) == 1 && s[0] >= '0' && s[0] <= '7' {
		return int(s[0] - '0'), true
	}
	for i, n := range priorityNames {
		if strings.EqualFold(s, n) {
			return i, true
		}
	}
	return 0, false
}

// checkMatch accepts journalctl's match syntax: "FIELD=value" or "+".
func checkMatch(m string) error {
	if m == "+" {
		return nil
	}
	name, _, ok := strings.Cut(m, "=")
	if !ok {
		return fmt.Errorf("matches: %q has no '=': write FIELD=value (e.g. _COMM=sshd) or \"+\" to OR groups", m)
	}
	if _, ok := checkFieldName([]byte(name)); !ok || strings.ToUpper(name) != name {
		return fmt.Errorf("matches: %q: field names are upper-case letters, digits and '_' (e.g. _SYSTEMD_UNIT=nginx.service)", m)
	}
	if strings.Contains(m, "\n") {
		return fmt.Errorf("matches: %q contains a newline", m)
	}
	return nil
}
