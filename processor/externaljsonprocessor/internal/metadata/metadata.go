// Package metadata holds the type, stability and telemetry of the
// externaljson processor.
package metadata // import "github.com/otelcol-logx/otelcol-logx/processor/externaljsonprocessor/internal/metadata"

import "go.opentelemetry.io/collector/component"

// Type is the processor's type name in collector configuration.
var Type = component.MustNewType("externaljson")

// ScopeName is the instrumentation scope of the processor's own telemetry.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/processor/externaljsonprocessor"

// LogsStability is the stability level of the logs processor.
const LogsStability = component.StabilityLevelAlpha
