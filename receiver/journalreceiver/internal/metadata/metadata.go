// Package metadata holds the journal receiver's type, stability and its own
// telemetry instruments.
package metadata // import "github.com/otelcol-logx/otelcol-logx/receiver/journalreceiver/internal/metadata"

import "go.opentelemetry.io/collector/component"

// Type is the component type used in configuration: `journal`.
var Type = component.MustNewType("journal")

// ScopeName is the instrumentation scope of the receiver's own metrics.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/receiver/journalreceiver"

// LogsStability is the stability level of the logs receiver.
const LogsStability = component.StabilityLevelAlpha
