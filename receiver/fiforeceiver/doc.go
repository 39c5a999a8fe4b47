// Package fiforeceiver reads syslog (RFC 3164, RFC 5424) or raw lines from
// a named pipe, which it creates if missing. It never blocks the writers:
// it holds the pipe open for writing itself so that writers may come and
// go without an end-of-file, and a bounded buffer absorbs a slow consumer,
// beyond which records are dropped and counted.
package fiforeceiver // import "github.com/otelcol-logx/otelcol-logx/receiver/fiforeceiver"
