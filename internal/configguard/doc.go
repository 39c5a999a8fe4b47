// Package configguard keeps a bad configuration from taking the collector
// down. Every resolve of the configuration (at start and on each reload) is
// checked before the collector acts on it: a configuration that does not
// parse, does not validate against the distribution's components, or has no
// pipeline, receiver or exporter is replaced by the one the collector already
// runs, and the refusal is logged and counted. The configuration that last
// started successfully is kept on disk so that a start with a broken file can
// fall back to it (feature gate logx.startWithLastGoodConfig).
//
// The guard is process-wide state shared by three parts of the binary that
// the collector creates independently: the confmap converter (the decision),
// the file provider wrapper (files that cannot be read or parsed, which fail
// before any converter runs) and the telemetry factory (metrics on the
// collector's own endpoint, and the signal that a configuration started).
package configguard // import "github.com/otelcol-logx/otelcol-logx/internal/configguard"
