// Package unixsocketreceiver receives syslog (RFC 3164, RFC 5424) or raw
// lines on a unix stream or datagram socket, such as /dev/log. It never
// blocks the writers: a bounded buffer absorbs a slow consumer and beyond it
// records are dropped and counted. Who wrote a record comes from the kernel
// (SO_PEERCRED and a pidfd at accept, SCM_CREDENTIALS per datagram) and its
// systemd unit from the writer's cgroup, so the service identity is a name
// the writer cannot choose; when the unit is unknown the record says it is
// not trusted (see README, Trust model).
package unixsocketreceiver // import "github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver"
