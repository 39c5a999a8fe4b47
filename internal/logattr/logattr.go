// Package logattr names the log record attributes that otelcol-logx
// components agree on, so that one component can key on what another wrote
// without per-source configuration. Every name here is documented in
// docs/attributes.md; change both together.
package logattr // import "github.com/otelcol-logx/otelcol-logx/internal/logattr"

// Service identity, written by every per-host receiver (unixsocket, fifo,
// journal) in the same attribute: the systemd unit when known and trusted,
// else the syslog app name / journal SYSLOG_IDENTIFIER, else the receiver's
// configured default. ratelimit, cfjs1, kafkatopics and logfile key on it.
const Service = "logx.service"

// Host name of the machine that produced the record. A resource attribute
// (OTel semantic conventions).
const HostName = "host.name"

// Syslog header fields (RFC 3164 / RFC 5424) as record attributes. Timestamp
// and severity go to the record's own fields; these keep what has no field.
const (
	SyslogFacility = "syslog.facility" // int, 0..23
	SyslogHostname = "syslog.hostname" // HOSTNAME from the message, if any
	SyslogAppName  = "syslog.appname"  // APP-NAME / TAG
	SyslogProcID   = "syslog.procid"   // PROCID / [pid], as a string
	SyslogMsgID    = "syslog.msgid"    // MSGID (RFC 5424)
	SyslogVersion  = "syslog.version"  // 1 for RFC 5424
	// SyslogSDPrefix prefixes RFC 5424 structured data: element "id" with
	// param "p" becomes attribute "syslog.sd.id.p" (string value).
	SyslogSDPrefix = "syslog.sd."
	// SyslogSDTruncated (bool, true when present) marks a record whose
	// RFC 5424 structured data had more elements or parameters than the
	// parser turns into attributes: the rest became none.
	SyslogSDTruncated = "syslog.structured_data.truncated"
)

// Credentials of the writing peer, from SO_PEERCRED (unix stream sockets),
// and the systemd unit resolved from /proc/<pid>/cgroup. Unlike the syslog
// fields these cannot be forged by the writer.
const (
	PeerPID     = "peer.pid"     // int
	PeerUID     = "peer.uid"     // int
	PeerGID     = "peer.gid"     // int
	SystemdUnit = "systemd.unit" // e.g. "nginx.service"; "user@1000.service" for a user's own units
	// SystemdUserUnit is the unit of a user's own service manager, e.g.
	// "app.service" under user@1000.service (the journal's
	// _SYSTEMD_USER_UNIT). The user names it: it tells, it does not prove.
	SystemdUserUnit = "systemd.user_unit"
)

// Trust of the service identity, written by the unixsocket receiver.
const (
	// ServiceTrusted (bool) is true when logx.service is the writer's
	// systemd unit as the kernel tells it, false when it is not.
	ServiceTrusted = "logx.service.trusted"
	// ServiceClaimed is the syslog app name of a record whose unit is
	// unknown: the service the writer says it is, unchecked.
	ServiceClaimed = "logx.service.claimed"
)

// cfjs1 line format (internal/cfjs1, docs/cfjs1.md).
const (
	// CFJS1Format names the kind of log: the cfjs1 "format" field, and the
	// attribute the cfjs1 exporter reads it from by default.
	CFJS1Format = "cfjs1.format"
	// CFJS1DeadLetterFor marks a dead-letter copy and names the endpoint
	// (e.g. "log-b") it was meant for.
	CFJS1DeadLetterFor = "cfjs1.dead_letter_for"
)

// Tenant key of the tenantbuffer exporter (configurable; this is the default).
const Tenant = "logx.tenant"
