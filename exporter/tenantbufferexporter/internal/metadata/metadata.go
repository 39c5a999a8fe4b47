// Package metadata holds the tenantbuffer exporter's type, stability and
// telemetry instruments (hand-written).
package metadata // import "github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/metadata"

import "go.opentelemetry.io/collector/component"

// Type is the component type of the exporter.
var Type = component.MustNewType("tenantbuffer")

// ScopeName is the instrumentation scope of the exporter's own telemetry.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter"

// LogsStability is the stability of the logs exporter.
const LogsStability = component.StabilityLevelDevelopment
