package ratelimitprocessor

import (
	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
)

// registerGuards reports the limiter's own safeguards: max_keys (how full
// the key table is; past it new keys share the overflow bucket) and
// dry_run, under which the limiter drops nothing: a rate limit switched
// off, which must be seen.
func (p *rateLimiter) registerGuards(set component.TelemetrySettings, id component.ID) error {
	reg, err := guard.Register(set, id,
		guard.Guard{Name: "max_keys", Limit: int64(p.cfg.MaxKeys), Use: p.table.len},
		guard.Guard{Name: "dry_run", Disabled: p.cfg.DryRun})
	if err != nil {
		return err
	}
	unobserveKeys := p.unobserve
	p.unobserve = func() error {
		_ = reg.Unregister()
		if unobserveKeys != nil {
			return unobserveKeys()
		}
		return nil
	}
	return nil
}
