package externaljsonprocessor

import (
	"fmt"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
)

// guards lists every source's safeguards for internal/guard, which reports
// the ones switched off and how full the caps are. Names are the options as
// an operator writes them, under the source's name.
func (p *enricher) guards() []guard.Guard {
	var gs []guard.Guard
	for _, s := range p.sources {
		opt := func(name string) string { return fmt.Sprintf("sources[%s].%s", s.cfg.Name, name) }
		gs = append(gs,
			guard.Guard{Name: opt("guard.max_field_loss"), Disabled: *s.cfg.Guard.MaxFieldLoss >= 1},
			guard.Guard{Name: opt("mapping.allow_reserved"), Disabled: len(s.cfg.Mapping.AllowReserved) > 0},
			guard.Guard{Name: opt("mapping.max_fields"), Limit: int64(s.cfg.Mapping.MaxFields), Use: s.goodFieldCount},
			guard.Guard{Name: opt("max_size"), Limit: s.cfg.MaxSize, Use: s.goodSize},
		)
	}
	return gs
}
