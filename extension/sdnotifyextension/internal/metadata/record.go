package metadata

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Values of the "message" attribute: which notification was sent.
const (
	MessageReady     = "ready"
	MessageReloading = "reloading"
	MessageStopping  = "stopping"
	MessageWatchdog  = "watchdog"
	MessageStatus    = "status"
)

// Values of the "state" gauge: the last state told to the service manager.
const (
	StateNone      int64 = 0 // nothing told yet (starting)
	StateReady     int64 = 1
	StateReloading int64 = 2
	StateStopping  int64 = 3
)

// The recorders below give the generated instruments (generated_telemetry.go)
// their attributes, so that call sites name a message or reason, not a key.

// Sent counts a notification the service manager's socket took.
func (t *TelemetryBuilder) Sent(message string) {
	t.LogxSdnotifyNotifications.Add(context.Background(), 1, metric.WithAttributes(attribute.String("message", message)))
}

// Failed counts a notification that could not be sent.
func (t *TelemetryBuilder) Failed(message, reason string) {
	t.LogxSdnotifyFailedNotifications.Add(context.Background(), 1, metric.WithAttributes(
		attribute.String("message", message), attribute.String("reason", reason)))
}

// Withheld counts a watchdog ping not sent, with the failed check.
func (t *TelemetryBuilder) Withheld(reason string) {
	t.LogxSdnotifyWithheldPings.Add(context.Background(), 1, metric.WithAttributes(attribute.String("reason", reason)))
}

// State records the last state told to the service manager.
func (t *TelemetryBuilder) State(s int64) { t.LogxSdnotifyState.Record(context.Background(), s) }

// Live records the outcome of the last liveness check.
func (t *TelemetryBuilder) Live(ok bool) {
	v := int64(0)
	if ok {
		v = 1
	}
	t.LogxSdnotifyLive.Record(context.Background(), v)
}
