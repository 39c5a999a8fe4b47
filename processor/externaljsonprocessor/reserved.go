package externaljsonprocessor

import (
	"slices"
	"strings"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// Reserved attribute names: the ones the distribution's components write
// and key on (service identity, tenant, cfjs1 format and dead-letter
// marker, syslog header fields, the writer's kernel credentials, the host).
// A source writing one of them would silently re-route, re-tenant or
// re-label records, so externaljson writes none of them unless the
// configuration names it in mapping.allow_reserved.
var (
	// reservedNamespaces are owned whole: every name starting with one of
	// them is reserved, including ones no component uses yet.
	reservedNamespaces = []string{
		namespaceOf(logattr.Service),       // logx.
		namespaceOf(logattr.CFJS1Format),   // cfjs1.
		namespaceOf(logattr.SyslogAppName), // syslog.
	}
	// reservedNames are single names outside those namespaces.
	reservedNames = []string{
		logattr.HostName,
		logattr.PeerPID,
		logattr.PeerUID,
		logattr.PeerGID,
		logattr.SystemdUnit,
		logattr.SystemdUserUnit,
	}
)

// namespaceOf returns a dotted name's first element with its dot ("logx.").
func namespaceOf(name string) string { return name[:strings.IndexByte(name, '.')+1] }

// isReserved reports whether externaljson must not write name on its own.
func isReserved(name string) bool {
	return inReservedNamespace(name) != "" || slices.Contains(reservedNames, name)
}

// inReservedNamespace returns the reserved namespace name (or a prefix)
// starts with, "" when none.
func inReservedNamespace(name string) string {
	for _, ns := range reservedNamespaces {
		if strings.HasPrefix(name, ns) {
			return ns
		}
	}
	return ""
}

// reservedSummary names the reserved set for messages and the README.
func reservedSummary() string {
	parts := make([]string, 0, len(reservedNamespaces)+len(reservedNames))
	for _, ns := range reservedNamespaces {
		parts = append(parts, ns+"*")
	}
	return strings.Join(append(parts, reservedNames...), ", ")
}

// reservedFilter says which reserved names one source may write anyway.
type reservedFilter struct {
	allowed map[string]bool
}

func newReservedFilter(allow []string) reservedFilter {
	f := reservedFilter{allowed: make(map[string]bool, len(allow))}
	for _, n := range allow {
		f.allowed[n] = true
	}
	return f
}

// refuses reports whether the source may not write name.
func (f reservedFilter) refuses(name string) bool { return isReserved(name) && !f.allowed[name] }

// suggestedKey is a name outside the reserved set to propose instead of
// name: its last element under "ext.".
func suggestedKey(name string) string { return "ext." + name[strings.LastIndexByte(name, '.')+1:] }
