package fiforeceiver

import (
	"errors"
	"fmt"

	"github.com/otelcol-logx/otelcol-logx/internal/fileperm"
	"github.com/otelcol-logx/otelcol-logx/internal/framing"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
)

// Config of the fifo receiver.
type Config struct {
	// Path of the named pipe: an inherited one (socket activation) that is
	// this file, else the FIFO there, adopted as it is, else one created.
	// Anything there that is not a FIFO is an error.
	Path string `mapstructure:"path"`
	// Mode, Owner and Group of a FIFO the receiver creates ("0620";
	// owner/group names or numeric ids, empty keeps the collector's). An
	// existing FIFO is left as it is (its owner may be another daemon, its
	// file system read-only to us).
	Mode  string `mapstructure:"mode"`
	Owner string `mapstructure:"owner"`
	Group string `mapstructure:"group"`
	// PipeSize, if not 0, sets the pipe buffer (F_SETPIPE_SZ) so that
	// bursts are absorbed by the kernel (best effort: a warning if the
	// kernel refuses; unprivileged processes are bounded by
	// /proc/sys/fs/pipe-max-size, 1 MiB by default).
	PipeSize int `mapstructure:"pipe_size"`

	// Framing: newline (default), octet_counting or auto.
	Framing framing.Mode `mapstructure:"framing"`
	// MaxMessageSize bounds a message; longer ones are truncated and counted.
	MaxMessageSize int `mapstructure:"max_message_size"`
	// Format: auto, rfc3164, rfc5424 or raw.
	Format syslog.Format `mapstructure:"format"`
	// Service, if set, is the service identity of every record (the FIFO
	// belongs to one service); else the record's app name is used.
	Service string `mapstructure:"service"`

	Buffer ingest.BufferConfig `mapstructure:"buffer"`
}

// Validate checks the FIFO's own options. The buffer group validates itself
// (the collector calls its Validate too).
func (c *Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("path is required: write e.g. path: /run/logx/app.fifo"))
	}
	if _, err := fileperm.Mode(c.Mode); err != nil {
		errs = append(errs, fmt.Errorf("mode: %w", err))
	}
	if c.PipeSize < 0 || c.PipeSize > 1<<30 {
		errs = append(errs, errors.New("pipe_size must be between 0 (leave the kernel default) and 1073741824: write e.g. 1048576"))
	}
	if c.MaxMessageSize < 64 || c.MaxMessageSize > 16<<20 {
		errs = append(errs, errors.New("max_message_size must be between 64 and 16777216: write e.g. 65536"))
	}
	return errors.Join(errs...)
}
