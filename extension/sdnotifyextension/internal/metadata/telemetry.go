package metadata

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
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

// Telemetry holds the extension's own metric instruments.
type Telemetry struct {
	sent     metric.Int64Counter
	failed   metric.Int64Counter
	withheld metric.Int64Counter
	state    metric.Int64Gauge
	live     metric.Int64Gauge
}

// NewTelemetry makes the instruments (otelcol_logx_sdnotify_*) from the
// component's meter provider.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	var t Telemetry
	var err, errs error
	t.sent, err = m.Int64Counter("otelcol_logx_sdnotify_notifications",
		metric.WithDescription("Notifications the service manager accepted, by message (ready, reloading, stopping, watchdog, status)."),
		metric.WithUnit("{notification}"))
	errs = errors.Join(errs, err)
	t.failed, err = m.Int64Counter("otelcol_logx_sdnotify_failed_notifications",
		metric.WithDescription("Notifications that could not be sent, by message and reason (dial, write)."),
		metric.WithUnit("{notification}"))
	errs = errors.Join(errs, err)
	t.withheld, err = m.Int64Counter("otelcol_logx_sdnotify_withheld_pings",
		metric.WithDescription("Watchdog pings not sent because the liveness check failed, by reason (component_error, recoverable_error_too_long, heartbeat)."),
		metric.WithUnit("{ping}"))
	errs = errors.Join(errs, err)
	t.state, err = m.Int64Gauge("otelcol_logx_sdnotify_state",
		metric.WithDescription("Last state told to the service manager: 0 none yet, 1 ready, 2 reloading, 3 stopping."))
	errs = errors.Join(errs, err)
	t.live, err = m.Int64Gauge("otelcol_logx_sdnotify_live",
		metric.WithDescription("1 while the liveness check passes (watchdog pings are sent), 0 while it fails."))
	errs = errors.Join(errs, err)
	return &t, errs
}

// Sent counts a notification the service manager's socket took.
func (t *Telemetry) Sent(message string) {
	t.sent.Add(context.Background(), 1, metric.WithAttributes(attribute.String("message", message)))
}

// Failed counts a notification that could not be sent.
func (t *Telemetry) Failed(message, reason string) {
	t.failed.Add(context.Background(), 1, metric.WithAttributes(
		attribute.String("message", message), attribute.String("reason", reason)))
}

// Withheld counts a watchdog ping not sent, with the failed check.
func (t *Telemetry) Withheld(reason string) {
	t.withheld.Add(context.Background(), 1, metric.WithAttributes(attribute.String("reason", reason)))
}

// State records the last state told to the service manager.
func (t *Telemetry) State(s int64) { t.state.Record(context.Background(), s) }

// Live records the outcome of the last liveness check.
func (t *Telemetry) Live(ok bool) {
	v := int64(0)
	if ok {
		v = 1
	}
	t.live.Record(context.Background(), v)
}
