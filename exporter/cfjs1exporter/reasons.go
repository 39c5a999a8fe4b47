package cfjs1exporter

import (
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// maxReasons bounds the distinct reject reasons the exporter reports. The
// reasons come from the receiver, which is a peer, not trusted: past this
// many, new ones are reported as reasonOther so that a receiver cannot
// grow the number of metric series. The receivers of this project use a
// handful.
const maxReasons = 32

// reasonAttrs hands out the `reason` attribute of each reject reason,
// made once per reason.
type reasonAttrs struct {
	mu   sync.Mutex
	seen map[string]metric.MeasurementOption
}

func (r *reasonAttrs) attr(reason string) metric.MeasurementOption {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := r.seen[reason]; ok {
		return a
	}
	if r.seen == nil {
		r.seen = make(map[string]metric.MeasurementOption)
	}
	if len(r.seen) >= maxReasons {
		reason = reasonOther
		if a, ok := r.seen[reason]; ok {
			return a
		}
	}
	a := metric.WithAttributes(attribute.String("reason", reason))
	r.seen[reason] = a
	return a
}
