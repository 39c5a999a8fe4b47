package push

import (
	"math"
	"sort"
	"time"

	"golang.org/x/time/rate"
)

// Pace bounds how fast one tenant's batches go to its destination, so
// that a backlog held while the destination was down does not arrive all
// at once when it recovers. The zero Pace does not pace.
type Pace struct {
	// MaxRequestsPerSecond: pushes (requests, or files) per second; 0: no
	// bound.
	MaxRequestsPerSecond float64
	// MaxBytesPerSecond: payload bytes per second; 0: no bound. One
	// second's worth, or one batch if that is larger, may go at once.
	MaxBytesPerSecond int64
	// Burst: pushes that may go back to back after a quiet spell before
	// MaxRequestsPerSecond applies (1 if less).
	Burst int
}

// maxPaceWait bounds a single wait the pace computes: it keeps the
// arithmetic finite whatever rate a job asks for (a rate of a few bytes a
// second with megabyte batches would otherwise wait for days).
const maxPaceWait = 24 * time.Hour

// normalized returns the pace with unusable values (negative, NaN,
// infinite) read as "no bound" and Burst at least 1.
func (p Pace) normalized() Pace {
	if !(p.MaxRequestsPerSecond > 0) || math.IsInf(p.MaxRequestsPerSecond, 1) {
		p.MaxRequestsPerSecond = 0
	}
	p.MaxBytesPerSecond = max(p.MaxBytesPerSecond, 0)
	p.Burst = max(p.Burst, 1)
	return p
}

// paces reports whether the pace bounds anything.
func (p Pace) paces() bool { return p.MaxRequestsPerSecond > 0 || p.MaxBytesPerSecond > 0 }

// pacer holds one tenant's limiters for its job's pace. It is used by the
// worker that holds the tenant only (one at a time), so a wait is computed
// from the tokens the limiter holds and taken only when the batch goes: a
// tenant that waits holds no worker and no reservation.
type pacer struct {
	job      string // the job the pace came from
	pace     Pace
	requests *rate.Limiter // nil: requests not bounded
	bytes    *rate.Limiter // nil: bytes not bounded
}

// maxByteBurst keeps the byte bucket's size an int on every platform.
const maxByteBurst = 1 << 30

func newPacer(job string, p Pace) *pacer {
	pc := &pacer{job: job, pace: p}
	if p.MaxRequestsPerSecond > 0 {
		pc.requests = rate.NewLimiter(rate.Limit(p.MaxRequestsPerSecond), p.Burst)
	}
	if p.MaxBytesPerSecond > 0 {
		pc.bytes = rate.NewLimiter(rate.Limit(p.MaxBytesPerSecond), int(min(p.MaxBytesPerSecond, maxByteBurst)))
	}
	return pc
}

// wait is how long a push of n bytes must wait at now (0: it may go). A
// push needs one request token and n byte tokens; a batch larger than the
// byte bucket needs the bucket full (see take).
func (pc *pacer) wait(now time.Time, n int) time.Duration {
	var d time.Duration
	if pc.requests != nil {
		d = shortfall(pc.requests, now, 1)
	}
	if pc.bytes != nil && n > 0 {
		d = max(d, shortfall(pc.bytes, now, min(n, pc.bytes.Burst())))
	}
	return d
}

// take spends the tokens of a push of n bytes that wait allowed at now. A
// batch larger than the byte bucket grows the bucket to its size, so that
// it is charged in full: the bytes pace holds on average whatever the
// batch size, and one batch is the most that goes at once.
func (pc *pacer) take(now time.Time, n int) {
	if pc.requests != nil {
		pc.requests.ReserveN(now, 1)
	}
	if pc.bytes != nil && n > 0 {
		if n > pc.bytes.Burst() {
			pc.bytes.SetBurstAt(now, n)
		}
		pc.bytes.ReserveN(now, n) // may leave the bucket in debt: the next push waits it off
	}
}

// rested reports whether the limiters are full again at now: the pacer is
// then no different from a new one.
func (pc *pacer) rested(now time.Time) bool {
	return (pc.requests == nil || pc.requests.TokensAt(now) >= float64(pc.requests.Burst())) &&
		(pc.bytes == nil || pc.bytes.TokensAt(now) >= float64(pc.bytes.Burst()))
}

// shortfall is the time until lim holds n tokens, rounded up to a whole
// millisecond so that the tenant is not woken a hair too early.
func shortfall(lim *rate.Limiter, now time.Time, n int) time.Duration {
	short := float64(n) - lim.TokensAt(now)
	if short <= 0 {
		return 0
	}
	secs := short / float64(lim.Limit())
	if !(secs < maxPaceWait.Seconds()) {
		return maxPaceWait
	}
	return time.Duration(math.Ceil(secs*1000)) * time.Millisecond
}

// pacerFor returns the tenant's pacer for job (nil: the job does not
// pace). It is created on first use and kept in the tenant's state, so it
// goes when the pusher forgets the tenant; a job whose pace changed (or a
// tenant that moved to another job) starts a new one.
func (p *Pusher) pacerFor(st *tenantState, job string, pace Pace) *pacer {
	pace = pace.normalized()
	switch {
	case !pace.paces():
		st.pacer = nil
	case st.pacer == nil || st.pacer.job != job || st.pacer.pace != pace:
		st.pacer = newPacer(job, pace)
	}
	return st.pacer
}

// Causes of a tenant's wait, as reported by Paced.
const (
	CausePace       = "pace"        // its job's pace
	CauseRetryAfter = "retry_after" // its destination's Retry-After
)

// waitStats are the waits of one tenant (under Pusher.mu).
type waitStats struct {
	pace, retryAfter           time.Duration
	paceWaits, retryAfterWaits int64
}

// TenantWaits is what one tenant waited, since the pusher first saw it.
type TenantWaits struct {
	Tenant          string
	Pace            time.Duration // for its job's pace
	PaceWaits       int64
	RetryAfter      time.Duration // for its destination's Retry-After (capped)
	RetryAfterWaits int64         // Retry-After headers honoured (capped ones included)
}

// Paced lists the tenants that waited longest (for the pace and for
// Retry-After together), at most limit of them. It walks only the tenants
// that ever waited, and they go with the tenant's state.
func (p *Pusher) Paced(limit int) []TenantWaits {
	p.mu.Lock()
	all := make([]TenantWaits, 0, len(p.paced))
	for _, st := range p.paced {
		w := st.waits
		all = append(all, TenantWaits{Tenant: st.name, Pace: w.pace, PaceWaits: w.paceWaits,
			RetryAfter: w.retryAfter, RetryAfterWaits: w.retryAfterWaits})
	}
	p.mu.Unlock()
	sort.Slice(all, func(i, j int) bool {
		ti, tj := all[i].Pace+all[i].RetryAfter, all[j].Pace+all[j].RetryAfter
		if ti != tj {
			return ti > tj
		}
		return all[i].Tenant < all[j].Tenant
	})
	return all[:min(max(limit, 0), len(all))]
}

// notePaceLocked records that st waits d for its pace.
func (p *Pusher) notePaceLocked(st *tenantState, d time.Duration) {
	st.waits.pace += d
	st.waits.paceWaits++
	p.paced[st.name] = st
}

// noteRetryAfterLocked records that st waits d for a Retry-After.
func (p *Pusher) noteRetryAfterLocked(st *tenantState, d time.Duration) {
	st.waits.retryAfter += d
	st.waits.retryAfterWaits++
	p.paced[st.name] = st
}
