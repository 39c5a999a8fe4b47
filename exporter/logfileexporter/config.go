package logfileexporter // import "github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter"

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-logx/otelcol-logx/internal/attrtemplate"
	"github.com/otelcol-logx/otelcol-logx/internal/fileperm"
	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
)

// Config of the logfile exporter.
type Config struct {
	// Path is a template over attributes: {name} is the record attribute
	// (else resource attribute) "name"; see internal/attrtemplate.
	Path string `mapstructure:"path"`
	// Missing is written for a placeholder whose attribute is absent.
	Missing string `mapstructure:"missing"`
	// Format is text, syslog, json or cfjs1.
	Format string `mapstructure:"format"`
	// Multiline says what text and syslog lines do with line breaks in
	// the body: escape (\n, \r and \\), space, or keep.
	Multiline string `mapstructure:"multiline"`
	// MaxRecordBytes bounds one formatted record; longer ones are dropped
	// and counted.
	MaxRecordBytes int `mapstructure:"max_record_bytes"`

	Syslog SyslogConfig `mapstructure:"syslog"`
	CFJS1  CFJS1Config  `mapstructure:"cfjs1"`

	// MaxOpenFiles bounds the open files; the least recently written is
	// closed first.
	MaxOpenFiles int `mapstructure:"max_open_files"`
	// MaxPaths bounds the distinct paths this exporter keeps files at
	// (0: no limit). A record whose path would be one more goes to
	// OverflowPath instead, counted.
	MaxPaths int `mapstructure:"max_paths"`
	// OverflowPath is a plain path (not a template); empty means
	// "overflow.log" in the directory of the path template's fixed part.
	OverflowPath string `mapstructure:"overflow_path"`

	Permissions PermissionsConfig `mapstructure:"permissions"`
	Rotation    RotationConfig    `mapstructure:"rotation"`
	Flush       FlushConfig       `mapstructure:"flush"`
	Reopen      ReopenConfig      `mapstructure:"reopen"`
	DiskGuard   DiskGuardConfig   `mapstructure:"disk_guard"`

	// Timeout bounds one batch's write (exporterhelper's timeout).
	Timeout time.Duration `mapstructure:"timeout"`
	// RetryConfig matters only with disk_guard.on_full: retry.
	RetryConfig configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
}

// SyslogConfig fills RFC 5424 fields a record does not carry.
type SyslogConfig struct {
	Facility     int      `mapstructure:"facility"`
	Hostname     string   `mapstructure:"hostname"`
	AppName      string   `mapstructure:"app_name"`
	SDID         string   `mapstructure:"sd_id"`
	SDAttributes []string `mapstructure:"sd_attributes"`
	// Timezone is "UTC" or "Local".
	Timezone string `mapstructure:"timezone"`
}

// CFJS1Config chooses the cfjs1 format field of each line.
type CFJS1Config struct {
	FormatAttribute string            `mapstructure:"format_attribute"`
	DefaultFormat   string            `mapstructure:"default_format"`
	Wrappers        map[string]string `mapstructure:"wrappers"`
}

// PermissionsConfig is applied with explicit chmod/chown after creation,
// so the process umask does not matter.
type PermissionsConfig struct {
	FileMode string `mapstructure:"file_mode"`
	DirMode  string `mapstructure:"dir_mode"`
	Owner    string `mapstructure:"owner"`
	Group    string `mapstructure:"group"`
}

// RotationConfig: rotate when a file would exceed MaxBytes and/or at each
// Interval boundary; keep MaxBackups rotated files and/or those younger
// than MaxAge.
type RotationConfig struct {
	MaxBytes    int64         `mapstructure:"max_bytes"`
	Interval    time.Duration `mapstructure:"interval"`
	MaxBackups  int           `mapstructure:"max_backups"`
	MaxAge      time.Duration `mapstructure:"max_age"`
	Compression string        `mapstructure:"compression"`
	LocalTime   bool          `mapstructure:"local_time"`
}

// FlushConfig: buffered bytes are written at least every Interval (0:
// after every batch); Sync* make written bytes durable with fsync.
type FlushConfig struct {
	Interval       time.Duration `mapstructure:"interval"`
	BufferBytes    int           `mapstructure:"buffer_bytes"`
	SyncEveryBytes int64         `mapstructure:"sync_every_bytes"`
	SyncInterval   time.Duration `mapstructure:"sync_interval"`
}

// ReopenConfig: a file moved or removed by another tool is detected (by
// device and inode) every CheckInterval and reopened at its path.
type ReopenConfig struct {
	CheckInterval time.Duration `mapstructure:"check_interval"`
	OnSIGHUP      bool          `mapstructure:"on_sighup"`
}

// DiskGuardConfig bounds what this exporter writes.
type DiskGuardConfig struct {
	MaxTotalBytes int64         `mapstructure:"max_total_bytes"`
	MinFreeBytes  int64         `mapstructure:"min_free_bytes"`
	CheckInterval time.Duration `mapstructure:"check_interval"`
	// OnFull is drop (count and drop the record) or retry (return a
	// retryable error so that the sending queue keeps the batch).
	OnFull string `mapstructure:"on_full"`
}

// Format names.
const (
	formatText   = "text"
	formatSyslog = "syslog"
	formatJSON   = "json"
	formatCFJS1  = "cfjs1"
)

// Multiline modes.
const (
	multilineEscape = "escape"
	multilineSpace  = "space"
	multilineKeep   = "keep"
)

// Compression names.
const (
	compressionNone = "none"
	compressionGzip = "gzip"
	compressionZstd = "zstd"
)

// Disk guard policies.
const (
	onFullDrop  = "drop"
	onFullRetry = "retry"
)

// Validate checks the exporter's own options and what spans groups (the
// cfjs1 group against format), saying what to write instead. The nested
// groups (syslog, permissions, rotation, flush, reopen, disk_guard)
// validate themselves: the collector calls their Validate too and puts the
// group's path in front.
func (c *Config) Validate() error {
	return errors.Join(c.validatePath(), c.validateFormat(), c.validateCFJS1ForFormat(), c.validateBounds(), c.validateOverflowPath())
}

// validatePath checks the path template.
func (c *Config) validatePath() error {
	if c.Path == "" {
		return errors.New("path: required, e.g. /var/log/logx/{logx.service}.log")
	} else if _, err := c.pathTemplate(); err != nil {
		return fmt.Errorf("path: %v", err)
	} else if strings.HasSuffix(c.Path, "/") {
		return fmt.Errorf("path %q names a directory; end it with a file name, e.g. %s{logx.service}.log", c.Path, c.Path)
	}
	return nil
}

// validateFormat checks the line format and what it does with line breaks.
func (c *Config) validateFormat() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch c.Format {
	case formatText, formatSyslog, formatJSON, formatCFJS1:
	default:
		add("format %q: write one of text, syslog, json, cfjs1", c.Format)
	}
	switch c.Multiline {
	case multilineEscape, multilineSpace, multilineKeep:
	default:
		add("multiline %q: write one of escape, space, keep", c.Multiline)
	}
	return errors.Join(errs...)
}

// validateCFJS1ForFormat checks that the cfjs1 format can name each line's
// format: it spans format and the cfjs1 group.
func (c *Config) validateCFJS1ForFormat() error {
	if c.Format == formatCFJS1 && c.CFJS1.FormatAttribute == "" && c.CFJS1.DefaultFormat == "" {
		return errors.New("cfjs1: set format_attribute (e.g. cfjs1.format) or default_format")
	}
	return nil
}

// validateBounds checks the exporter's own bounds: record size, open files,
// paths and the write timeout.
func (c *Config) validateBounds() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.MaxRecordBytes <= 0 {
		add("max_record_bytes must be > 0 (default 1048576)")
	}
	if c.MaxOpenFiles <= 0 {
		add("max_open_files must be > 0 (default 64)")
	}
	if c.MaxPaths < 0 {
		add("max_paths must not be negative (0 turns the limit off; default 1000)")
	}
	if c.Timeout < 0 {
		add("timeout must not be negative (0: none; default 5s)")
	}
	return errors.Join(errs...)
}

// validateOverflowPath checks that the overflow path is a plain file path.
func (c *Config) validateOverflowPath() error {
	if o := c.OverflowPath; strings.ContainsAny(o, "{}") {
		return fmt.Errorf("overflow_path %q is a plain path, not a template; write e.g. /var/log/logx/overflow.log", o)
	} else if strings.HasSuffix(o, "/") {
		return fmt.Errorf("overflow_path %q names a directory; end it with a file name, e.g. %soverflow.log", o, o)
	}
	return nil
}

// Validate checks the RFC 5424 fields and the timezone; the collector puts
// the group's path ("syslog: ") in front.
func (s SyslogConfig) Validate() error {
	var errs []error
	if err := s.options().Validate(); err != nil {
		errs = append(errs, err)
	}
	if tz := s.Timezone; tz != "UTC" && tz != "Local" {
		errs = append(errs, fmt.Errorf("timezone %q: write UTC or Local", tz))
	}
	return grouperr.Join(errs...)
}

// Validate checks the modes; the collector puts the group's path
// ("permissions: ") in front.
func (p PermissionsConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if _, err := fileperm.Mode(p.FileMode); err != nil {
		add("file_mode: %v", err)
	}
	if _, err := fileperm.DirMode(p.DirMode); err != nil {
		add("dir_mode: %v", err)
	}
	return grouperr.Join(errs...)
}

// Validate checks the rotation triggers, what is kept and the compression;
// the collector puts the group's path ("rotation: ") in front.
func (r RotationConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if r.MaxBytes < 0 || r.Interval < 0 || r.MaxBackups < 0 || r.MaxAge < 0 {
		add("max_bytes, interval, max_backups and max_age must not be negative (0 turns each off)")
	}
	if r.Interval > 0 && r.Interval < time.Second {
		add("interval %s: at least 1s, e.g. 1h or 24h", r.Interval)
	}
	if (r.MaxBytes > 0 || r.Interval > 0) && r.MaxBackups == 0 && r.MaxAge == 0 {
		add("rotated files would be kept forever; set max_backups and/or max_age")
	}
	switch r.Compression {
	case compressionNone, compressionGzip, compressionZstd:
	default:
		add("compression %q: write none, gzip or zstd", r.Compression)
	}
	return grouperr.Join(errs...)
}

// Validate checks the flush and sync intervals and the buffer; the
// collector puts the group's path ("flush: ") in front.
func (f FlushConfig) Validate() error {
	var errs []error
	if f.Interval < 0 || f.SyncInterval < 0 || f.SyncEveryBytes < 0 {
		errs = append(errs, errors.New("interval, sync_interval and sync_every_bytes must not be negative (0 turns each off)"))
	}
	if f.BufferBytes <= 0 || f.BufferBytes > 64<<20 {
		errs = append(errs, errors.New("buffer_bytes must be in 1..67108864 (default 262144)"))
	}
	return grouperr.Join(errs...)
}

// Validate checks the check interval; the collector puts the group's path
// ("reopen: ") in front.
func (r ReopenConfig) Validate() error {
	if r.CheckInterval < 0 {
		return errors.New("check_interval must not be negative (0 turns the check off)")
	}
	return nil
}

// Validate checks the bounds, the check interval and the policy; the
// collector puts the group's path ("disk_guard: ") in front.
func (g DiskGuardConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if g.MaxTotalBytes < 0 || g.MinFreeBytes < 0 {
		add("max_total_bytes and min_free_bytes must not be negative (0 turns each off)")
	}
	if g.CheckInterval <= 0 {
		add("check_interval must be > 0 (default 1s)")
	}
	switch g.OnFull {
	case onFullDrop, onFullRetry:
	default:
		add("on_full %q: write drop or retry", g.OnFull)
	}
	return grouperr.Join(errs...)
}

func (c *Config) pathTemplate() (*attrtemplate.Template, error) {
	return attrtemplate.Parse(c.Path, attrtemplate.Options{Missing: c.Missing, Escape: attrtemplate.EscapePath})
}

// fixedDir is the directory of the path template's fixed part: the
// directories an operator wrote before the first placeholder. Attribute
// values can never lead out of it (see attrtemplate.EscapePath).
func (c *Config) fixedDir() string {
	var lit strings.Builder
	for i := 0; i < len(c.Path); i++ {
		ch := c.Path[i]
		if (ch == '{' || ch == '}') && i+1 < len(c.Path) && c.Path[i+1] == ch {
			lit.WriteByte(ch) // "{{" or "}}": a literal brace
			i++
			continue
		}
		if ch == '{' {
			break
		}
		lit.WriteByte(ch)
	}
	// "x" stands for what follows, so that "/var/log/logx/" and
	// "/var/log/logx/svc-" both give "/var/log/logx".
	return filepath.Dir(lit.String() + "x")
}

// overflowPath is where records go once max_paths paths are known.
func (c *Config) overflowPath() string {
	if c.OverflowPath != "" {
		return filepath.Clean(c.OverflowPath)
	}
	return filepath.Join(c.fixedDir(), "overflow.log")
}

func (c *Config) syslogOptions() *syslog.RFC5424Options { return c.Syslog.options() }

func (s SyslogConfig) options() *syslog.RFC5424Options {
	o := &syslog.RFC5424Options{
		Facility:        s.Facility,
		UseFacilityZero: s.Facility == 0,
		Hostname:        s.Hostname,
		AppName:         s.AppName,
		SDID:            s.SDID,
		SDAttributes:    s.SDAttributes,
	}
	if s.Timezone == "Local" {
		o.Location = time.Local
	}
	return o
}
