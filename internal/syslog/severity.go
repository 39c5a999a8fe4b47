package syslog

import "go.opentelemetry.io/collector/pdata/plog"

// Severity is a syslog severity, 0 (emergency) to 7 (debug).
type Severity uint8

// The syslog severities (RFC 5424, table 2).
const (
	SevEmergency Severity = iota
	SevAlert
	SevCritical
	SevError
	SevWarning
	SevNotice
	SevInformational
	SevDebug
)

// toOTel follows the mapping the OTel log data model suggests for syslog.
var toOTel = [8]plog.SeverityNumber{
	SevEmergency:     plog.SeverityNumberFatal4,
	SevAlert:         plog.SeverityNumberFatal3,
	SevCritical:      plog.SeverityNumberFatal2,
	SevError:         plog.SeverityNumberError,
	SevWarning:       plog.SeverityNumberWarn,
	SevNotice:        plog.SeverityNumberInfo2,
	SevInformational: plog.SeverityNumberInfo,
	SevDebug:         plog.SeverityNumberDebug,
}

var severityText = [8]string{"EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG"}

// OTel returns the OTel severity number of a syslog severity.
func (s Severity) OTel() plog.SeverityNumber { return toOTel[s&7] }

// Text returns the conventional short name ("ERR", "WARNING", ...), used as
// the record's SeverityText.
func (s Severity) Text() string { return severityText[s&7] }

// FromOTel maps an OTel severity number back to syslog: the inverse of OTel
// on its image, and the nearest syslog severity elsewhere. Unspecified maps
// to informational, what syslog(3) writers use when they do not say.
func FromOTel(n plog.SeverityNumber) Severity {
	switch {
	case n == plog.SeverityNumberUnspecified:
		return SevInformational
	case n <= plog.SeverityNumberDebug4:
		return SevDebug
	case n == plog.SeverityNumberInfo:
		return SevInformational
	case n <= plog.SeverityNumberInfo4:
		return SevNotice
	case n <= plog.SeverityNumberWarn4:
		return SevWarning
	case n <= plog.SeverityNumberError4:
		return SevError
	case n <= plog.SeverityNumberFatal2:
		return SevCritical
	case n == plog.SeverityNumberFatal3:
		return SevAlert
	default:
		return SevEmergency
	}
}
