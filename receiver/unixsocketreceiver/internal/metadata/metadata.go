// Package metadata holds the unixsocket receiver's type, stability and
// telemetry instruments.
package metadata // import "github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"

import "go.opentelemetry.io/collector/component"

// Type is the component type in collector configs.
var Type = component.MustNewType("unixsocket")

// ScopeName is the instrumentation scope of the receiver's telemetry and
// of the records it produces.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver"

// LogsStability is the stability of the logs signal.
const LogsStability = component.StabilityLevelAlpha
