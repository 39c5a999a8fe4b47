// Package externaljsonprocessor adds fields taken from external JSON sources
// (an HTTP endpoint or a command) to every log record or resource. Sources are
// polled in the background; the hot path only copies a field set that was
// prepared once per refresh and swapped in atomically.
package externaljsonprocessor // import "github.com/otelcol-logx/otelcol-logx/processor/externaljsonprocessor"
