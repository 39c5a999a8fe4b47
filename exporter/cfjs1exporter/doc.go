// Package cfjs1exporter ships log records as cfjs1 lines (docs/cfjs1.md)
// to named endpoints such as log-a and log-b over TCP or TLS. When an
// endpoint is down, or only half alive, its records go to the others as
// dead-letter copies marked for it, so that no log is lost.
package cfjs1exporter // import "github.com/otelcol-logx/otelcol-logx/exporter/cfjs1exporter"
