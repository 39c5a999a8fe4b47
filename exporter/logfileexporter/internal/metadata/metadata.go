// Package metadata holds the logfile exporter's type, stability and
// telemetry instruments (hand-written).
package metadata // import "github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter/internal/metadata"

import "go.opentelemetry.io/collector/component"

// Type is the component type of the exporter.
var Type = component.MustNewType("logfile")

// ScopeName is the instrumentation scope of the exporter's own telemetry.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter"

// LogsStability is the stability of the logs exporter.
const LogsStability = component.StabilityLevelDevelopment
