// Package cfjs1receiver reads cfjs1 lines (docs/cfjs1.md) over TCP or TLS,
// as the tier-2 log-a / log-b receiver, and turns them into log records.
// It acknowledges lines, when the sender asks for it, only after the
// pipeline has accepted them, and tells a version 2 sender which lines it
// dropped. Every resource one sender can use is bounded: connections in all
// and per source address, time per handshake and per line, and the bytes
// of long lines held by all connections together (README.md).
package cfjs1receiver // import "github.com/otelcol-logx/otelcol-logx/receiver/cfjs1receiver"
