// Package fiforeceiver reads syslog (RFC 3164, RFC 5424) or raw lines from
// a named pipe: one inherited through socket activation, else the FIFO at
// its path, adopted as it is or created. It never blocks the writers:
// it holds the pipe open for writing itself so that writers may come and
// go without an end-of-file, the read end outlives a reload (and, held by
// systemd, a restart), and a bounded buffer absorbs a slow consumer, beyond
// which records are dropped and counted.
package fiforeceiver // import "github.com/otelcol-logx/otelcol-logx/receiver/fiforeceiver"
