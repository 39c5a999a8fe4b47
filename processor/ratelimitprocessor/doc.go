// Package ratelimitprocessor limits log records per key (by default the
// service, logx.service) with one token bucket per key, dropping what exceeds
// the rate and counting every drop, so that no service can degrade log
// collection for the others. It replaces syslog-ng's rate-limit() filter.
package ratelimitprocessor // import "github.com/otelcol-logx/otelcol-logx/processor/ratelimitprocessor"
