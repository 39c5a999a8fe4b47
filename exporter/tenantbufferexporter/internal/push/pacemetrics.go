package push

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/metadata"
)

// ObserveWaits reports the paced waits, in a callback registered for
// push_paced_seconds, push_paced_waits and push_retry_after: per tenant (and
// cause) for the top tenants that waited longest, and the Retry-After
// outcomes of all tenants.
func (p *Pusher) ObserveWaits(o metric.Observer, t *metadata.TelemetryBuilder, top int) {
	for _, w := range p.Paced(top) {
		for _, c := range [...]struct {
			cause string
			secs  float64
			n     int64
		}{
			{CausePace, w.Pace.Seconds(), w.PaceWaits},
			{CauseRetryAfter, w.RetryAfter.Seconds(), w.RetryAfterWaits},
		} {
			if c.n == 0 {
				continue
			}
			attrs := metric.WithAttributeSet(attribute.NewSet(attribute.String("tenant", w.Tenant), attribute.String("cause", c.cause)))
			o.ObserveFloat64(t.LogxTenantbufferPushPacedSeconds, c.secs, attrs)
			o.ObserveInt64(t.LogxTenantbufferPushPacedWaits, c.n, attrs)
		}
	}
	for _, c := range [...]struct {
		outcome string
		n       int64
	}{
		{RetryAfterHonoured, p.RetryAfterHonoured.Load()},
		{RetryAfterCapped, p.RetryAfterCapped.Load()},
		{RetryAfterIgnored, p.RetryAfterIgnored.Load()},
	} {
		o.ObserveInt64(t.LogxTenantbufferPushRetryAfter, c.n, metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", c.outcome))))
	}
}
