package push

import (
	"sort"
	"time"
)

// States of a tenant's destination, as the pusher sees it.
const (
	StateOK          = "ok"           // the last push went (or none failed yet)
	StateRetrying    = "retrying"     // the last push failed; retried with backoff
	StateBreakerOpen = "breaker_open" // failed breaker_failures times in a row, or the destination refused the sender: retried every breaker_open
)

// TenantState is one tenant in trouble.
type TenantState struct {
	Tenant   string
	State    string        // StateRetrying or StateBreakerOpen
	Failures int           // consecutive
	For      time.Duration // since the first of them
}

// States counts the tenants the pusher knows in each state, and lists the
// ones in trouble, at most limit of them: open breakers first, then those
// failing the longest. It walks the tenants in trouble only.
func (p *Pusher) States(limit int) (counts map[string]int, worst []TenantState) {
	now := p.o.Now()
	p.mu.Lock()
	counts = map[string]int{StateOK: len(p.tenants) - len(p.troubled), StateRetrying: 0, StateBreakerOpen: 0}
	all := make([]TenantState, 0, len(p.troubled))
	for _, st := range p.troubled {
		s := TenantState{Tenant: st.name, State: StateRetrying, Failures: st.failures, For: max(now.Sub(st.since), 0)}
		if st.failures >= p.o.BreakerFailures {
			s.State = StateBreakerOpen
		}
		counts[s.State]++
		all = append(all, s)
	}
	p.mu.Unlock()
	sort.Slice(all, func(i, j int) bool {
		if (all[i].State == StateBreakerOpen) != (all[j].State == StateBreakerOpen) {
			return all[i].State == StateBreakerOpen
		}
		if all[i].For != all[j].For {
			return all[i].For > all[j].For
		}
		return all[i].Tenant < all[j].Tenant
	})
	return counts, all[:min(limit, len(all))]
}
