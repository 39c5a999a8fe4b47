package metadata

import "go.opentelemetry.io/otel/metric"

// RegisterCallback registers f as the source of several of the generated
// observable instruments at once, which the generated Register*Callback
// methods (one instrument each) cannot do: f observes them all from one
// snapshot taken under one lock. The caller unregisters it.
func (builder *TelemetryBuilder) RegisterCallback(f metric.Callback, instruments ...metric.Observable) (metric.Registration, error) {
	return builder.meter.RegisterCallback(f, instruments...)
}
