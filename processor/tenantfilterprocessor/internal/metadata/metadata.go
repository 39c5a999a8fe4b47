// Package metadata holds the tenantfilter processor's type, stability and
// telemetry instruments.
package metadata // import "github.com/otelcol-logx/otelcol-logx/processor/tenantfilterprocessor/internal/metadata"

import "go.opentelemetry.io/collector/component"

// Type is the processor's type name in collector configs.
var Type = component.MustNewType("tenantfilter")

// ScopeName is the instrumentation scope of the processor's own telemetry.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/processor/tenantfilterprocessor"

// LogsStability is the stability of the logs pipeline support.
const LogsStability = component.StabilityLevelDevelopment
