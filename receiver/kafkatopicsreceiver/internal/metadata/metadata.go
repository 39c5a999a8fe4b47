// Package metadata holds the kafkatopics receiver's type, stability and its
// own telemetry instruments.
package metadata // import "github.com/otelcol-logx/otelcol-logx/receiver/kafkatopicsreceiver/internal/metadata"

import "go.opentelemetry.io/collector/component"

// Type is the component type used in configuration: `kafkatopics`.
var Type = component.MustNewType("kafkatopics")

// ScopeName is the instrumentation scope of the receiver's own metrics.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/receiver/kafkatopicsreceiver"

// LogsStability is the stability level of the logs receiver.
const LogsStability = component.StabilityLevelAlpha
