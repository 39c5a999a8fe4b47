// Package cfjs1receiver reads cfjs1 lines (docs/cfjs1.md) over TCP or TLS,
// as the tier-2 log-a / log-b receiver, and turns them into log records.
// It acknowledges lines, when the sender asks for it, only after the
// pipeline has accepted them.
package cfjs1receiver // import "github.com/otelcol-logx/otelcol-logx/receiver/cfjs1receiver"
