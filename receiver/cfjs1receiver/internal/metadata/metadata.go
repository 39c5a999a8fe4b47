// Package metadata holds the cfjs1 receiver's type, stability and its own
// telemetry instruments.
package metadata // import "github.com/otelcol-logx/otelcol-logx/receiver/cfjs1receiver/internal/metadata"

import "go.opentelemetry.io/collector/component"

// Type is the component type used in configuration: `cfjs1`.
var Type = component.MustNewType("cfjs1")

// ScopeName is the instrumentation scope of the receiver's own metrics.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/receiver/cfjs1receiver"

// LogsStability is the stability level of the logs receiver.
const LogsStability = component.StabilityLevelAlpha
