package journalreceiver

import (
	"fmt"
	"strconv"
	"strings"
)

// The direct reader filters entries itself, with the matches journalctl
// makes of the same options, so that both readers deliver the same
// entries. journalctl's model (sd_journal_add_match): the option groups
// (units, identifiers, priority, matches) are ANDed; a group is an OR of
// terms; a term ANDs its fields, and ORs the values given for one field.

// matchTerm is one AND term: every field must have one of its values.
type matchTerm struct {
	fields []string       // distinct field names, in order
	values map[string]int // "FIELD=value" -> index of its field
	all    uint64         // a bit per field
}

// matchGroup ORs its terms.
type matchGroup []*matchTerm

// matcher ANDs its groups; nil keeps every entry.
type matcher []matchGroup

// maxTermFields bounds the distinct fields of one term (a bit each).
const maxTermFields = 64

func newTerm() *matchTerm { return &matchTerm{values: map[string]int{}} }

// add puts FIELD=value into the term.
func (t *matchTerm) add(field, value string) error {
	i := -1
	for k, f := range t.fields {
		if f == field {
			i = k
		}
	}
	if i < 0 {
		if len(t.fields) == maxTermFields {
			return fmt.Errorf("more than %d different fields in one match group", maxTermFields)
		}
		i = len(t.fields)
		t.fields = append(t.fields, field)
		t.all |= 1 << i
	}
	t.values[field+"="+value] = i
	return nil
}

// matches says whether fields ("NAME=value" each) satisfy the term.
func (t *matchTerm) matches(fields [][]byte) bool {
	var got uint64
	for _, f := range fields {
		if i, ok := t.values[string(f)]; ok {
			got |= 1 << i
			if got == t.all {
				return true
			}
		}
	}
	return false
}

func (g matchGroup) matches(fields [][]byte) bool {
	for _, t := range g {
		if t.matches(fields) {
			return true
		}
	}
	return false
}

func (m matcher) matches(fields [][]byte) bool {
	for _, g := range m {
		if !g.matches(fields) {
			return false
		}
	}
	return true
}

// coredumpMessageID is the MESSAGE_ID of systemd-coredump's entries.
const coredumpMessageID = "fc2e22bc6ee647b6b90729ab34a250b1"

// unitSuffixes are systemd's unit types: a unit name without one of them
// means a service, as journalctl --unit reads it.
var unitSuffixes = []string{".service", ".socket", ".target", ".device", ".mount", ".automount",
	".swap", ".timer", ".path", ".slice", ".scope"}

// unitName is the unit journalctl --unit=name reads ("nginx" is
// nginx.service). Names journalctl would take as a pattern or escape
// first are refused: the direct reader does not expand them.
func unitName(name string) (string, error) {
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(":-_.\\@", c)) {
			return "", fmt.Errorf("units: %q has %q, which journalctl reads as a pattern or escapes: with reader: direct write exact unit names (e.g. nginx.service), or use reader: journalctl", name, c)
		}
	}
	for _, s := range unitSuffixes {
		if strings.HasSuffix(name, s) && len(name) > len(s) {
			return name, nil
		}
	}
	return name + ".service", nil
}

// unitTerms are the matches journalctl --unit=u adds: the unit's own
// entries, systemd-coredump's about it, PID 1's about it, and those of
// privileged daemons about it; for a slice, the entries of its units.
func unitTerms(u string) ([]*matchTerm, error) {
	specs := [][]string{
		{"_SYSTEMD_UNIT=" + u},
		{"MESSAGE_ID=" + coredumpMessageID, "_UID=0", "COREDUMP_UNIT=" + u},
		{"_PID=1", "UNIT=" + u},
		{"_UID=0", "OBJECT_SYSTEMD_UNIT=" + u},
	}
	if strings.HasSuffix(u, ".slice") {
		specs = append(specs, []string{"_SYSTEMD_SLICE=" + u})
	}
	var out []*matchTerm
	for _, spec := range specs {
		t := newTerm()
		for _, m := range spec {
			f, v, _ := strings.Cut(m, "=")
			if err := t.add(f, v); err != nil {
				return nil, err
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// newMatcher builds the filter of cfg's units, identifiers, priority and
// matches; nil when there is none.
func newMatcher(cfg *Config) (matcher, error) {
	var m matcher
	if len(cfg.Units) > 0 {
		var g matchGroup
		for _, name := range cfg.Units {
			u, err := unitName(name)
			if err != nil {
				return nil, err
			}
			terms, err := unitTerms(u)
			if err != nil {
				return nil, err
			}
			g = append(g, terms...)
		}
		m = append(m, g)
	}
	if len(cfg.Identifiers) > 0 {
		t := newTerm()
		for _, id := range cfg.Identifiers {
			if err := t.add("SYSLOG_IDENTIFIER", id); err != nil {
				return nil, err
			}
		}
		m = append(m, matchGroup{t})
	}
	if cfg.Priority != "" {
		p, _ := parsePriority(cfg.Priority)
		t := newTerm()
		for i := 0; i <= p; i++ {
			if err := t.add("PRIORITY", strconv.Itoa(i)); err != nil {
				return nil, err
			}
		}
		m = append(m, matchGroup{t})
	}
	if len(cfg.Matches) > 0 {
		var g matchGroup
		t := newTerm()
		for _, s := range cfg.Matches {
			if s == "+" {
				if len(t.fields) > 0 {
					g = append(g, t)
				}
				t = newTerm()
				continue
			}
			f, v, _ := strings.Cut(s, "=")
			if err := t.add(f, v); err != nil {
				return nil, err
			}
		}
		if len(t.fields) > 0 {
			g = append(g, t)
		}
		if len(g) > 0 {
			m = append(m, g)
		}
	}
	return m, nil
}
