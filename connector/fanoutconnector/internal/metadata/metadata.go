// Package metadata holds the fanout connector's type, stability and
// telemetry instruments (hand-written).
package metadata // import "github.com/otelcol-logx/otelcol-logx/connector/fanoutconnector/internal/metadata"

import "go.opentelemetry.io/collector/component"

// Type is the connector's type name in collector configs.
var Type = component.MustNewType("fanout")

// ScopeName is the instrumentation scope of the connector's own telemetry.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/connector/fanoutconnector"

// LogsToLogsStability is the stability of the logs to logs connector.
const LogsToLogsStability = component.StabilityLevelDevelopment
