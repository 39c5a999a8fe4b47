// Package metadata holds the kafkatopics exporter's type, stability and
// telemetry instruments.
package metadata // import "github.com/otelcol-logx/otelcol-logx/exporter/kafkatopicsexporter/internal/metadata"

import "go.opentelemetry.io/collector/component"

// Type is the exporter's type name in collector configs.
var Type = component.MustNewType("kafkatopics")

// ScopeName is the instrumentation scope of the exporter's own telemetry.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/exporter/kafkatopicsexporter"

// LogsStability is the stability of the logs pipeline support.
const LogsStability = component.StabilityLevelDevelopment
