// Package metadata holds the cfjs1 exporter's type, stability and its own
// telemetry instruments.
package metadata // import "github.com/otelcol-logx/otelcol-logx/exporter/cfjs1exporter/internal/metadata"

import "go.opentelemetry.io/collector/component"

// Type is the component type used in configuration: `cfjs1`.
var Type = component.MustNewType("cfjs1")

// ScopeName is the instrumentation scope of the exporter's own metrics.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/exporter/cfjs1exporter"

// LogsStability is the stability level of the logs exporter.
const LogsStability = component.StabilityLevelAlpha
