package cfjs1receiver

import (
	"github.com/otelcol-logx/otelcol-logx/internal/guard"
)

// registerGuards reports the receiver's caps with how full each is, so that
// tier 2 near its connection or memory limits shows before it refuses
// anybody. None of them can be switched off.
func (r *cfjs1Receiver) registerGuards() (*guard.Registration, error) {
	return guard.Register(r.set.TelemetrySettings, r.set.ID,
		guard.Guard{Name: "max_connections", Limit: int64(r.cfg.MaxConnections),
			Use: func() int64 { return int64(len(r.slots)) }},
		guard.Guard{Name: "max_connections_per_peer", Limit: int64(r.cfg.MaxConnectionsPerPeer),
			Use: r.peers.busiest},
		guard.Guard{Name: "max_buffered_bytes", Limit: r.cfg.MaxBufferedBytes,
			Use: func() int64 { return r.buffered.Load() + r.budget.heldBytes() }},
	)
}
