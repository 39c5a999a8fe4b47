// Package metadata holds the sdnotify extension's type, stability and
// telemetry instruments.
package metadata // import "github.com/otelcol-logx/otelcol-logx/extension/sdnotifyextension/internal/metadata"

import "go.opentelemetry.io/collector/component"

// Type is the component type in collector configs.
var Type = component.MustNewType("sdnotify")

// ScopeName is the instrumentation scope of the extension's telemetry.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/extension/sdnotifyextension"

// ExtensionStability is the stability of the extension.
const ExtensionStability = component.StabilityLevelAlpha
