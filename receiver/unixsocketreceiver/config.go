package unixsocketreceiver

import (
	"errors"
	"fmt"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/fileperm"
	"github.com/otelcol-logx/otelcol-logx/internal/framing"
	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
)

// Transport is the socket type.
type Transport string

const (
	Stream   Transport = "stream"   // SOCK_STREAM: connections, framed
	Datagram Transport = "datagram" // SOCK_DGRAM: one message per datagram
)

// Config of the unixsocket receiver.
type Config struct {
	// Path of the socket file. An inherited socket (socket activation)
	// bound to it is used as it is and never removed. Else a stale socket
	// there is replaced, a live one or anything else is an error, and the
	// socket made is kept across an in-process reload, then removed.
	Path      string    `mapstructure:"path"`
	Transport Transport `mapstructure:"transport"`
	// Mode, Owner and Group of a socket file the receiver creates ("0666";
	// owner/group names or numeric ids, empty keeps the collector's).
	Mode  string `mapstructure:"mode"`
	Owner string `mapstructure:"owner"`
	Group string `mapstructure:"group"`

	// Framing of stream connections: newline, octet_counting or auto.
	Framing framing.Mode `mapstructure:"framing"`
	// MaxMessageSize bounds a message; longer ones are truncated and counted.
	MaxMessageSize int `mapstructure:"max_message_size"`
	// Format: auto, rfc3164, rfc5424 or raw.
	Format syslog.Format `mapstructure:"format"`
	// MaxConnections bounds concurrent stream connections; more are closed
	// at once and counted.
	MaxConnections int `mapstructure:"max_connections"`
	// MaxConnectionsPerUID bounds the stream connections of one user (by
	// SO_PEERCRED), so that one user cannot hold every slot; 0: no bound.
	MaxConnectionsPerUID int `mapstructure:"max_connections_per_uid"`
	// IdleTimeout closes a stream connection that sent nothing for this
	// long, freeing its slot; 0: never.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`

	Peer PeerConfig `mapstructure:"peer"`
	// DefaultService is the service identity for records with neither a
	// systemd unit nor an app name.
	DefaultService string `mapstructure:"default_service"`

	Buffer ingest.BufferConfig `mapstructure:"buffer"`
}

// UntrustedService says what logx.service is when the writer's unit is
// unknown.
type UntrustedService string

const (
	// UntrustedUID: "uid-<uid>" of the writer, which the kernel vouches
	// for (else default_service); the app name goes to
	// logx.service.claimed.
	UntrustedUID UntrustedService = "uid"
	// UntrustedAppName: the syslog app name, which any writer may claim
	// (else default_service), e.g. on a host or container without systemd
	// where no writer has a unit.
	UntrustedAppName UntrustedService = "app_name"
)

// PeerConfig says what is learnt about the writer from the kernel.
type PeerConfig struct {
	// Credentials attaches peer.pid, peer.uid and peer.gid (SO_PEERCRED on
	// streams, SCM_CREDENTIALS on datagrams).
	Credentials bool `mapstructure:"credentials"`
	// SystemdUnit resolves the writer's systemd unit from its cgroup into
	// systemd.unit (and systemd.user_unit), and uses it as the service.
	SystemdUnit bool `mapstructure:"systemd_unit"`
	// UntrustedService is logx.service when the unit is unknown: uid or
	// app_name.
	UntrustedService UntrustedService `mapstructure:"untrusted_service"`
}

// Validate checks the peer group; the collector prefixes its messages with
// "peer: ".
func (c *PeerConfig) Validate() error {
	var errs []error
	if c.SystemdUnit && !c.Credentials {
		errs = append(errs, errors.New("systemd_unit needs the writer's pid: also write credentials: true"))
	}
	if c.UntrustedService != UntrustedUID && c.UntrustedService != UntrustedAppName {
		errs = append(errs, fmt.Errorf("untrusted_service %q: write \"uid\" (the writer's user, from the kernel) or \"app_name\" (the syslog app name the writer claims)", c.UntrustedService))
	}
	return grouperr.Join(errs...)
}

// Validate checks the socket's own options. The peer and buffer groups
// validate themselves (the collector calls their Validate too).
func (c *Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("path is required: write e.g. path: /run/logx/log.sock"))
	}
	if c.Transport != Stream && c.Transport != Datagram {
		errs = append(errs, fmt.Errorf("transport %q: write \"stream\" or \"datagram\"", c.Transport))
	}
	if _, err := fileperm.Mode(c.Mode); err != nil {
		errs = append(errs, fmt.Errorf("mode: %w", err))
	}
	if c.MaxMessageSize < 64 || c.MaxMessageSize > 16<<20 {
		errs = append(errs, errors.New("max_message_size must be between 64 and 16777216: write e.g. 65536"))
	}
	if c.MaxConnections < 1 {
		errs = append(errs, errors.New("max_connections must be at least 1: write e.g. 256"))
	}
	if c.MaxConnectionsPerUID < 0 || c.MaxConnectionsPerUID > c.MaxConnections {
		errs = append(errs, fmt.Errorf("max_connections_per_uid must be between 0 (no bound per user) and max_connections (%d): write e.g. %d", c.MaxConnections, max(1, c.MaxConnections/8)))
	}
	if c.IdleTimeout < 0 {
		errs = append(errs, errors.New("idle_timeout must not be negative: write e.g. 5m, or 0 to never close an idle connection"))
	}
	return errors.Join(errs...)
}
