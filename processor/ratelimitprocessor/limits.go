package ratelimitprocessor

// dropReason says which budget a dropped record found empty. It is the
// reason attribute of the drop counter.
type dropReason uint8

const (
	reasonRate         dropReason = iota // the key's record bucket
	reasonBytes                          // the key's bytes bucket
	reasonSeverityRate                   // the key's separate budget for severe records
	numReasons
)

var reasonNames = [numReasons]string{"rate", "bytes", "severity_rate"}

// limits are the buckets' shapes for one key: the defaults, or an override.
type limits struct {
	rate     float64 // as configured, for summaries
	burst    int64
	records  limit
	severe   limit // used in severity mode budget
	bytes    limit
	hasBytes bool
	// hasSevere: severity mode budget, so a key has a bucket for severe
	// records too.
	hasSevere bool
}

func newLimits(rate float64, burst int64, b BytesConfig, sev SeverityConfig) *limits {
	l := &limits{rate: rate, burst: burst, records: newLimit(rate, burst)}
	if b.Rate > 0 {
		l.hasBytes = true
		l.bytes = newLimit(float64(b.Rate), b.Burst)
	}
	if sev.Mode == severityModeBudget && sev.Threshold != "" {
		l.severe = newLimit(sev.Rate, sev.Burst)
		l.hasSevere = true
	}
	return l
}

// limitSet resolves a key to its limits: an exact override, else the
// defaults. It is read-only after construction. A key's entry holds the
// index of its limits in all (4 bytes, where a pointer would take 8 of the
// entry's 64 and make the table something the GC must scan); the map is
// consulted only when a key enters the table, never per record.
type limitSet struct {
	defaults  *limits
	overflow  *limits
	all       []*limits // defaultsIndex, overflowIndex, then the overrides
	overrides map[string]uint32
}

const (
	defaultsIndex uint32 = 0
	overflowIndex uint32 = 1
)

func newLimitSet(cfg *Config) *limitSet {
	s := &limitSet{
		defaults:  newLimits(cfg.Rate, cfg.Burst, cfg.Bytes, cfg.Severity),
		overflow:  newLimits(cfg.Overflow.Rate, cfg.Overflow.Burst, cfg.Bytes, cfg.Severity),
		overrides: make(map[string]uint32, len(cfg.Overrides)),
	}
	s.all = append(s.all, s.defaults, s.overflow)
	for _, o := range cfg.Overrides {
		b := cfg.Bytes
		if o.Bytes != nil {
			b = *o.Bytes
		}
		s.overrides[overrideKey(o)] = uint32(len(s.all)) //nolint:gosec // G115: the number of configured limits
		s.all = append(s.all, newLimits(o.Rate, o.Burst, b, cfg.Severity))
	}
	return s
}

// forKey returns the index in all of the key's limits.
func (s *limitSet) forKey(key string) uint32 {
	if i, ok := s.overrides[key]; ok {
		return i
	}
	return defaultsIndex
}

func (s *limitSet) anyBytes() bool {
	if s.defaults.hasBytes || s.overflow.hasBytes {
		return true
	}
	for _, l := range s.all {
		if l.hasBytes {
			return true
		}
	}
	return false
}
