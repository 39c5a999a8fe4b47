// Package unixsocketreceiver receives syslog (RFC 3164, RFC 5424) or raw
// lines on a unix stream or datagram socket, such as /dev/log. It never
// blocks the writers: a bounded buffer absorbs a slow consumer and beyond it
// records are dropped and counted; the writer's credentials (SO_PEERCRED)
// and systemd unit can be attached so the service identity can be trusted.
package unixsocketreceiver // import "github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver"
