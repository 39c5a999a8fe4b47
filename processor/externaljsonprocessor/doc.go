// Package externaljsonprocessor adds fields taken from external JSON sources
// (an HTTP endpoint or a command) to every log record or resource. Sources are
// polled in the background; the hot path only copies a field set that was
// prepared once per refresh and swapped in atomically.
//
// A response replaces the last good values only when it passes every check:
// well formed, within its caps, holding the required paths and not having
// lost most of the last good fields (the shrink guard). Attribute names that
// other components of the distribution write and key on (logx.*, cfjs1.*,
// ...) are never written unless the configuration allows them by name.
package externaljsonprocessor // import "github.com/otelcol-logx/otelcol-logx/processor/externaljsonprocessor"
