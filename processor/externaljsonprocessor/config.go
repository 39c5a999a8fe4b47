package externaljsonprocessor

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"

	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
)

// Defaults applied to a source's options that are left out (zero). Sources
// are list elements, so the factory cannot pre-fill them: resolved() does.
const (
	defaultInterval       = 30 * time.Second
	defaultTimeout        = 10 * time.Second
	defaultMaxSize        = 64 << 10 // 64 KiB: status documents are small
	defaultMaxFields      = 64
	defaultStaleAttribute = "externaljson.stale"
	defaultStartupWait    = 5 * time.Second
	// defaultMaxFieldLoss refuses a response that lost more than half of
	// the last good fields: an error object answered with HTTP 200
	// ({"error":"x"}) is not taken for the new values.
	defaultMaxFieldLoss = 0.5

	// Hard ceilings, so that a typo cannot make a source unbounded.
	maxMaxSize   = 16 << 20
	maxMaxFields = 4096
	maxSources   = 64
)

// Config is the externaljson processor's configuration.
type Config struct {
	// Sources are polled independently; their fields are applied in order.
	Sources []SourceConfig `mapstructure:"sources"`
	// StartupWait bounds how long Start waits for the first fetch of every
	// source (0: do not wait; records pass unenriched until values arrive).
	StartupWait time.Duration `mapstructure:"startup_wait"`
	// Persistence keeps the last good values on disk across restarts.
	Persistence PersistenceConfig `mapstructure:"persistence"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// PersistenceConfig says where the last good values are kept.
type PersistenceConfig struct {
	// Directory holds one file per source (<name>.json); empty: no persistence.
	Directory string `mapstructure:"directory"`
}

// SourceConfig is one external source and how its object is mapped.
type SourceConfig struct {
	// Name identifies the source in telemetry, logs and the persistence file.
	Name string `mapstructure:"name"`
	// HTTP fetches the object with GET from http.endpoint. Exactly one of
	// http and command is set.
	HTTP *confighttp.ClientConfig `mapstructure:"http"`
	// Command runs a program and reads the object from its standard output.
	Command *CommandConfig `mapstructure:"command"`
	// MaxSize caps the response body / command output in bytes.
	MaxSize int64 `mapstructure:"max_size"`
	// Interval between fetches; Jitter adds a random [0, jitter) to each.
	Interval time.Duration `mapstructure:"interval"`
	Jitter   time.Duration `mapstructure:"jitter"`
	// MaxAge is how old the last good values may get (while fetches fail)
	// before StalePolicy applies; 0 means never stale.
	MaxAge time.Duration `mapstructure:"max_age"`
	// StalePolicy: keep (go on adding them), remove (stop adding them),
	// mark (go on adding them plus StaleAttribute = true).
	StalePolicy    string `mapstructure:"stale_policy"`
	StaleAttribute string `mapstructure:"stale_attribute"`
	// Mapping chooses fields from the object and where they go.
	Mapping MappingConfig `mapstructure:"mapping"`
	// Guard refuses a response that does not look like the last good one.
	Guard GuardConfig `mapstructure:"guard"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// GuardConfig checks a response against the last good one before it
// replaces it. A refused response is counted and logged like a failed
// fetch: the last good values stay (and may go stale).
type GuardConfig struct {
	// MaxFieldLoss is the largest fraction (0 to 1) of the last good
	// response's attributes a new response may lose; left out: 0.5. 1
	// switches the shrink check off.
	MaxFieldLoss *float64 `mapstructure:"max_field_loss"`
	// RequiredPaths must each be present (and not null) in every response.
	RequiredPaths []string `mapstructure:"required_paths"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// CommandConfig runs a program directly (never through a shell).
type CommandConfig struct {
	// Argv is the program and its arguments; argv[0] is looked up in PATH.
	Argv []string `mapstructure:"argv"`
	// Timeout after which the command's whole process group is killed.
	Timeout time.Duration `mapstructure:"timeout"`
	// Environment of the command. With InheritEnvironment false (the
	// default) it is all the command gets.
	Environment        map[string]string `mapstructure:"environment"`
	InheritEnvironment bool              `mapstructure:"inherit_environment"`
	// TextKey, when set, takes the output as plain text rather than JSON:
	// trimmed of surrounding white space, it becomes the one field TextKey.
	// (For `systemctl show --property=ActiveState --value nginx`.)
	TextKey string `mapstructure:"text_key"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// MappingConfig turns the source's object into attributes.
type MappingConfig struct {
	// Target: record (log record attributes) or resource (resource attributes).
	Target string `mapstructure:"target"`
	// Prefix is put before every attribute name.
	Prefix string `mapstructure:"prefix"`
	// OnConflict is the default policy for an attribute that already exists
	// or not: insert (only if absent), update (only if present), upsert.
	OnConflict string `mapstructure:"on_conflict"`
	// Fields chooses paths in the object; empty takes the whole object.
	// Nested objects are flattened with "." between the keys.
	Fields []FieldConfig `mapstructure:"fields"`
	// MaxFields caps the number of attributes one response may yield.
	MaxFields int `mapstructure:"max_fields"`
	// AllowReserved names reserved attributes (logx.*, cfjs1.*, ...: see
	// reserved.go) this source may write, e.g. [logx.tenant] for a source
	// that assigns tenants.
	AllowReserved []string `mapstructure:"allow_reserved"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// FieldConfig picks one path of the object.
type FieldConfig struct {
	// Path in the object, keys joined by "." (e.g. "dc.status").
	Path string `mapstructure:"path"`
	// Key is the attribute name (after Prefix); default: Path.
	Key string `mapstructure:"key"`
	// OnConflict overrides the mapping's policy for this field.
	OnConflict string `mapstructure:"on_conflict"`

	// prevent unkeyed literal initialization
	_ struct{}
}

const (
	targetRecord   = "record"
	targetResource = "resource"

	staleKeep   = "keep"
	staleRemove = "remove"
	staleMark   = "mark"
)

var sourceNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Validate checks what concerns the processor as a whole. Each nested group
// (a source, its command, mapping, fields and guard) has its own Validate,
// which the collector calls on its own and whose messages it prefixes with
// the group's path (e.g. "sources::0::mapping: ..."). Messages say what to
// write instead.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Sources) == 0 {
		errs = append(errs, errors.New("sources: at least one source is required, e.g. sources: [{name: dc, http: {endpoint: \"http://127.0.0.1:8080/status\"}}]"))
	}
	if len(c.Sources) > maxSources {
		errs = append(errs, fmt.Errorf("sources: %d sources, at most %d are allowed; merge them into fewer endpoints", len(c.Sources), maxSources))
	}
	if c.StartupWait < 0 {
		errs = append(errs, errors.New("startup_wait: must not be negative; write 0s to not wait for the first fetch"))
	}
	seen := map[string]bool{}
	for i := range c.Sources {
		name := c.Sources[i].Name
		if seen[name] {
			errs = append(errs, fmt.Errorf("sources[%d]: name %q is used twice; give every source its own name", i, name))
		}
		seen[name] = true
	}
	return errors.Join(errs...)
}

// Validate checks one source. Its http client settings validate themselves
// (confighttp); the checks here need more than one group of the source.
func (s *SourceConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !sourceNameRE.MatchString(s.Name) {
		add("name: %q is not valid; write 1-64 characters of letters, digits, '_', '.', '-' (it names the persistence file and the metrics)", s.Name)
	}
	switch {
	case s.HTTP == nil && s.Command == nil:
		add("neither http nor command is set; write http: {endpoint: URL} or command: {argv: [program, args...]}")
	case s.HTTP != nil && s.Command != nil:
		add("both http and command are set; write one source for each")
	case s.HTTP != nil:
		if !strings.HasPrefix(s.HTTP.Endpoint, "http://") && !strings.HasPrefix(s.HTTP.Endpoint, "https://") {
			add("http.endpoint: %q is not an http:// or https:// URL", s.HTTP.Endpoint)
		}
		if s.HTTP.Timeout < 0 {
			add("http.timeout: must not be negative; leave it out for %s", defaultTimeout)
		}
	}
	if s.MaxSize < 0 || s.MaxSize > maxMaxSize {
		add("max_size: %d is out of range; write 1 to %d bytes, or leave it out for %d", s.MaxSize, maxMaxSize, defaultMaxSize)
	}
	if s.Interval < 0 {
		add("interval: must be positive; leave it out for %s", defaultInterval)
	}
	if s.Jitter < 0 {
		add("jitter: must not be negative; write 0s for none")
	}
	if s.MaxAge < 0 {
		add("max_age: must not be negative; write 0s for never stale")
	}
	switch s.StalePolicy {
	case "", staleKeep, staleRemove, staleMark:
	default:
		add("stale_policy: %q is not known; write keep, remove or mark", s.StalePolicy)
	}
	if s.MaxAge > 0 && s.Interval > 0 && s.MaxAge < s.Interval {
		add("max_age (%s) is shorter than interval (%s): values would go stale between two good fetches; make max_age a few intervals long", s.MaxAge, s.Interval)
	}
	errs = append(errs, s.validateReservedNames())
	if s.Command != nil && s.Command.TextKey != "" && len(s.Guard.RequiredPaths) > 0 {
		add("guard.required_paths: the output of a command with text_key is text, not an object; remove required_paths")
	}
	return grouperr.Join(errs...)
}

// validateReservedNames refuses the names outside the mapping's fields that
// this source always writes (the stale mark, the text_key field) when they
// are reserved and not allowed.
func (s *SourceConfig) validateReservedNames() error {
	var errs []error
	allowed := newReservedFilter(s.Mapping.AllowReserved)
	if s.StalePolicy == "" || s.StalePolicy == staleMark {
		if name := s.StaleAttribute; allowed.refuses(name) {
			errs = append(errs, fmt.Errorf("stale_attribute: %q is reserved (other components key on it); write another name, e.g. %q", name, defaultStaleAttribute))
		}
	}
	if s.Command != nil && s.Command.TextKey != "" {
		if name := s.Mapping.Prefix + s.Command.TextKey; allowed.refuses(name) {
			errs = append(errs, fmt.Errorf("command.text_key: attribute %q is reserved (other components key on it); %s", name, insteadOfReserved(s.Mapping.Prefix, name)))
		}
	}
	return grouperr.Join(errs...)
}

// Validate checks the command's own options.
func (c *CommandConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		add("argv: give the program and its arguments as a list, e.g. [systemctl, show, --property=ActiveState, --value, nginx]")
	}
	if c.Timeout < 0 {
		add("timeout: must not be negative; leave it out for %s", defaultTimeout)
	}
	for k := range c.Environment {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			add("environment: %q is not a valid variable name", k)
		}
	}
	return grouperr.Join(errs...)
}

func validPolicy(p string) bool {
	_, ok := parsePolicy(p)
	return ok
}

// validPath reports whether p is keys joined by '.'.
func validPath(p string) bool {
	return p != "" && !strings.HasPrefix(p, ".") && !strings.HasSuffix(p, ".") && !strings.Contains(p, "..")
}

// Validate checks the mapping, including the attribute names it would
// always write: a reserved one must be named in allow_reserved. (Names
// that come from the response itself are checked when it arrives.)
func (m *MappingConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch m.Target {
	case "", targetRecord, targetResource:
	default:
		add("target: %q is not known; write record or resource", m.Target)
	}
	if !validPolicy(m.OnConflict) {
		add("on_conflict: %q is not known; write insert, update or upsert", m.OnConflict)
	}
	if m.MaxFields < 0 || m.MaxFields > maxMaxFields {
		add("max_fields: %d is out of range; write 1 to %d, or leave it out for %d", m.MaxFields, maxMaxFields, defaultMaxFields)
	}
	if len(m.Fields) > maxMaxFields {
		add("fields: %d fields, at most %d are allowed", len(m.Fields), maxMaxFields)
	}
	allowed := newReservedFilter(m.AllowReserved)
	if ns := inReservedNamespace(m.Prefix); ns != "" && len(m.Fields) == 0 {
		add("prefix: %q puts every attribute in the reserved namespace %s*; write a prefix of your own (e.g. \"dc.\"), or choose the fields and list each reserved one in allow_reserved", m.Prefix, ns)
	}
	keys := map[string]bool{}
	for i, f := range m.Fields {
		key := f.Key
		if key == "" {
			key = f.Path
		}
		if keys[key] {
			add("fields[%d]: attribute %q is produced twice; give one of them another key", i, m.Prefix+key)
		}
		keys[key] = true
		if name := m.Prefix + key; allowed.refuses(name) {
			add("fields[%d]: attribute %q is reserved (other components key on it); %s", i, name, insteadOfReserved(m.Prefix, name))
		}
	}
	for _, name := range m.AllowReserved {
		if !isReserved(name) {
			add("allow_reserved: %q is not a reserved name; remove it (reserved: %s)", name, reservedSummary())
		}
	}
	return grouperr.Join(errs...)
}

// insteadOfReserved says what to write instead of a reserved attribute name
// that prefix (+ a key) would produce.
func insteadOfReserved(prefix, name string) string {
	if inReservedNamespace(prefix) != "" {
		return fmt.Sprintf("write a prefix of your own (e.g. \"dc.\"), or, if this source is meant to set it, allow_reserved: [%q]", name)
	}
	return fmt.Sprintf("write another key (e.g. %q), or, if this source is meant to set it, allow_reserved: [%q]", suggestedKey(name), name)
}

// Validate checks one chosen path.
func (f *FieldConfig) Validate() error {
	var errs []error
	if !validPath(f.Path) {
		errs = append(errs, fmt.Errorf("path: %q is not a path; write keys joined by '.', e.g. dc.status", f.Path))
	}
	if !validPolicy(f.OnConflict) {
		errs = append(errs, fmt.Errorf("on_conflict: %q is not known; write insert, update or upsert", f.OnConflict))
	}
	return grouperr.Join(errs...)
}

// Validate checks the guard's options.
func (g *GuardConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	// Written so that NaN fails too.
	if l := g.MaxFieldLoss; l != nil && !(*l >= 0 && *l <= 1) {
		add("max_field_loss: %v is out of range; write a fraction from 0 (refuse any lost field) to 1 (shrink check off), or leave it out for %v", *l, defaultMaxFieldLoss)
	}
	if len(g.RequiredPaths) > maxMaxFields {
		add("required_paths: %d paths, at most %d are allowed", len(g.RequiredPaths), maxMaxFields)
	}
	seen := map[string]bool{}
	for i, p := range g.RequiredPaths {
		if !validPath(p) {
			add("required_paths[%d]: %q is not a path; write keys joined by '.', e.g. dc.status", i, p)
		}
		if seen[p] {
			add("required_paths[%d]: %q is listed twice; remove one", i, p)
		}
		seen[p] = true
	}
	return grouperr.Join(errs...)
}

// resolved returns a copy with every left-out option set to its default.
func (s SourceConfig) resolved() SourceConfig {
	if s.MaxSize == 0 {
		s.MaxSize = defaultMaxSize
	}
	if s.Interval == 0 {
		s.Interval = defaultInterval
	}
	if s.StalePolicy == "" {
		s.StalePolicy = staleMark
	}
	if s.StaleAttribute == "" {
		s.StaleAttribute = defaultStaleAttribute
	}
	if s.Mapping.Target == "" {
		s.Mapping.Target = targetRecord
	}
	if s.Mapping.OnConflict == "" {
		s.Mapping.OnConflict = "upsert"
	}
	if s.Mapping.MaxFields == 0 {
		s.Mapping.MaxFields = defaultMaxFields
	}
	if s.Guard.MaxFieldLoss == nil {
		loss := defaultMaxFieldLoss
		s.Guard.MaxFieldLoss = &loss
	}
	if s.HTTP != nil {
		h := *s.HTTP
		if h.Timeout == 0 {
			h.Timeout = defaultTimeout
		}
		s.HTTP = &h
	}
	if s.Command != nil {
		c := *s.Command
		if c.Timeout == 0 {
			c.Timeout = defaultTimeout
		}
		s.Command = &c
	}
	return s
}
