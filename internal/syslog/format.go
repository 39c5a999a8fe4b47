package syslog

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// RFC 5424 header field limits (section 6).
const (
	formatMaxHostname = 255
	formatMaxAppName  = 48
	formatMaxProcID   = 128
	formatMaxMsgID    = 32
	formatMaxSDName   = 32
)

// formatBOM is the UTF-8 byte order mark that may start MSG.
const formatBOM = "\xef\xbb\xbf"

// FormatDefaultFacility is syslog facility 1 ("user-level messages"), what syslog(3)
// uses when a program does not say.
const FormatDefaultFacility = 1

// RFC5424Options say how AppendRFC5424 fills the fields a record does not
// carry. The zero value is usable: facility user, "-" for unknown fields,
// timestamps in UTC, only syslog.sd.* attributes as structured data.
type RFC5424Options struct {
	// Facility is used when the record has no valid syslog.facility (0..23).
	// Zero means FormatDefaultFacility; set UseFacilityZero for kernel (0).
	Facility        int
	UseFacilityZero bool
	// Hostname is used when neither syslog.hostname nor host.name (record,
	// then resource) is set.
	Hostname string
	// AppName is used when neither syslog.appname nor logx.service is set.
	AppName string
	// Location of the written timestamps; nil means UTC.
	Location *time.Location
	// SDID names one more structured data element that holds the attributes
	// named in SDAttributes, each the record attribute or else the resource
	// attribute (e.g. "logx@32473"); both empty means none.
	SDID         string
	SDAttributes []string
}

// Validate checks the options at config time, saying what to write instead.
func (o *RFC5424Options) Validate() error {
	var errs []error
	if o.Facility < 0 || o.Facility > 23 {
		errs = append(errs, fmt.Errorf("facility %d: must be 0..23 (1 = user, 16..23 = local0..local7)", o.Facility))
	}
	if err := formatCheckHeaderField("hostname", o.Hostname, formatMaxHostname); err != nil {
		errs = append(errs, err)
	}
	if err := formatCheckHeaderField("app_name", o.AppName, formatMaxAppName); err != nil {
		errs = append(errs, err)
	}
	if len(o.SDAttributes) > 0 && o.SDID == "" {
		errs = append(errs, errors.New("structured data attributes need an SD-ID; set sd_id, e.g. \"logx@32473\""))
	}
	if o.SDID != "" {
		if err := formatCheckSDName(o.SDID); err != nil {
			errs = append(errs, fmt.Errorf("sd_id: %w", err))
		}
	}
	for _, a := range o.SDAttributes {
		if err := formatCheckSDName(a); err != nil {
			errs = append(errs, fmt.Errorf("sd attribute %q cannot be an SD-PARAM name: %w", a, err))
		}
	}
	return errors.Join(errs...)
}

func formatCheckHeaderField(name, v string, limit int) error {
	if len(v) > limit {
		return fmt.Errorf("%s %q: longer than %d bytes", name, v, limit)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 33 || v[i] > 126 {
			return fmt.Errorf("%s %q: only printable ASCII without spaces is allowed", name, v)
		}
	}
	return nil
}

func formatCheckSDName(v string) error {
	if v == "" || len(v) > formatMaxSDName {
		return fmt.Errorf("%q: must be 1..%d bytes", v, formatMaxSDName)
	}
	for i := 0; i < len(v); i++ {
		if !formatSDNameByte(v[i]) {
			return fmt.Errorf("%q: only printable ASCII without space, '=', ']' or '\"' is allowed", v)
		}
	}
	return nil
}

// formatSDNameByte: PRINTUSASCII except '=', SP, ']', '"' (RFC 5424 SD-NAME).
func formatSDNameByte(c byte) bool {
	return c >= 33 && c <= 126 && c != '=' && c != ']' && c != '"'
}

// AppendRFC5424 appends one RFC 5424 message for rec, without a trailing
// newline: the header and structured data (AppendRFC5424Header), then the
// body as MSG, unchanged (a body that itself starts with a BOM gets one
// more, since readers strip one).
func AppendRFC5424(dst []byte, resource pcommon.Map, rec plog.LogRecord, o *RFC5424Options) []byte {
	dst = AppendRFC5424Header(dst, resource, rec, o)
	return formatBody(dst, rec.Body())
}

// AppendRFC5424Header appends everything before MSG, including the space
// that separates it: "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD ".
// Callers that transform the body (escaping newlines) write MSG themselves.
//
// PRI is the syslog.facility attribute (else o.Facility) times 8 plus the
// severity mapped from the record's severity number. TIMESTAMP is the
// record's timestamp, else its observed timestamp, with microseconds.
// HOSTNAME is syslog.hostname, else host.name; APP-NAME syslog.appname,
// else logx.service; PROCID syslog.procid; MSGID syslog.msgid; each "-"
// when unknown, with bytes outside printable ASCII replaced by '_' and cut
// to the RFC's length. STRUCTURED-DATA holds the syslog.sd.<id>.<param>
// attributes, grouped by id in order of first appearance, then the element
// o.SDID with the attributes named in o.SDAttributes (record attribute,
// else resource attribute).
func AppendRFC5424Header(dst []byte, resource pcommon.Map, rec plog.LogRecord, o *RFC5424Options) []byte {
	attrs := rec.Attributes()

	// One pass over the record's attributes finds every header field
	// (Map.Get would scan once per field).
	var h formatHeaderAttrs
	for k, v := range attrs.All() {
		h.take(k, v)
	}

	facility := o.Facility
	if facility == 0 && !o.UseFacilityZero {
		facility = FormatDefaultFacility
	}
	if h.facilityOK {
		if f, ok := formatIntValue(h.facility); ok && f >= 0 && f <= 23 {
			facility = int(f)
		}
	}
	pri := facility*8 + int(FromOTel(rec.SeverityNumber()))
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(pri), 10)
	dst = append(dst, ">1 "...)

	ts := rec.Timestamp()
	if ts == 0 {
		ts = rec.ObservedTimestamp()
	}
	if ts == 0 {
		dst = append(dst, '-')
	} else {
		dst = formatTimestamp(dst, ts.AsTime(), o.Location)
	}
	dst = append(dst, ' ')

	hostRes := ""
	if h.syslogHost == "" && h.hostName == "" {
		hostRes = formatLookupStr(resource, logattr.HostName)
	}
	dst = formatHeaderField(dst, formatMaxHostname, o.Hostname, h.syslogHost, h.hostName, hostRes)
	dst = append(dst, ' ')
	dst = formatHeaderField(dst, formatMaxAppName, o.AppName, h.appName, h.service)
	dst = append(dst, ' ')
	dst = formatHeaderValue(dst, h.procID, h.procIDOK, formatMaxProcID)
	dst = append(dst, ' ')
	dst = formatHeaderValue(dst, h.msgID, h.msgIDOK, formatMaxMsgID)
	dst = append(dst, ' ')
	if !h.hasSD && o.SDID == "" {
		dst = append(dst, '-')
		return append(dst, ' ')
	}
	dst = formatStructuredData(dst, attrs, resource, o)
	return append(dst, ' ')
}

// formatLookupStr returns a string attribute's value, or "" when absent or not a
// string.
func formatLookupStr(m pcommon.Map, key string) string {
	if m == (pcommon.Map{}) {
		return ""
	}
	if v, ok := m.Get(key); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}

func formatIntValue(v pcommon.Value) (int64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeStr:
		n, err := strconv.ParseInt(v.Str(), 10, 64)
		return n, err == nil
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if f == math.Trunc(f) && f >= 0 && f <= 23 {
			return int64(f), true
		}
	}
	return 0, false
}

// formatHeaderField appends the first non-empty candidate, then def, else
// the NILVALUE "-".
func formatHeaderField(dst []byte, limit int, def string, candidates ...string) []byte {
	for _, c := range candidates {
		if c != "" {
			return formatPrintUSASCII(dst, c, limit)
		}
	}
	if def != "" {
		return formatPrintUSASCII(dst, def, limit)
	}
	return append(dst, '-')
}

// formatHeaderValue appends a string or integer attribute as a header
// field (PROCID may arrive as an int).
func formatHeaderValue(dst []byte, v pcommon.Value, ok bool, limit int) []byte {
	if !ok {
		return append(dst, '-')
	}
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if v.Str() != "" {
			return formatPrintUSASCII(dst, v.Str(), limit)
		}
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(dst, v.Int(), 10)
	}
	return append(dst, '-')
}

// formatHeaderAttrs holds the attributes the header is made of, the first
// of each name as Map.Get would return.
type formatHeaderAttrs struct {
	facility, procID, msgID       pcommon.Value
	facilityOK, procIDOK, msgIDOK bool
	syslogHost, hostName, appName string
	service                       string
	hasSD                         bool
}

func (h *formatHeaderAttrs) take(k string, v pcommon.Value) {
	str := func(dst *string) {
		if *dst == "" && v.Type() == pcommon.ValueTypeStr {
			*dst = v.Str()
		}
	}
	switch k {
	case logattr.SyslogFacility:
		if !h.facilityOK {
			h.facility, h.facilityOK = v, true
		}
	case logattr.SyslogProcID:
		if !h.procIDOK {
			h.procID, h.procIDOK = v, true
		}
	case logattr.SyslogMsgID:
		if !h.msgIDOK {
			h.msgID, h.msgIDOK = v, true
		}
	case logattr.SyslogHostname:
		str(&h.syslogHost)
	case logattr.HostName:
		str(&h.hostName)
	case logattr.SyslogAppName:
		str(&h.appName)
	case logattr.Service:
		str(&h.service)
	default:
		if !h.hasSD && strings.HasPrefix(k, logattr.SyslogSDPrefix) {
			h.hasSD = true
		}
	}
}

// formatPrintUSASCII appends s cut to limit bytes, with every byte outside
// 33..126 replaced by '_' (header fields are PRINTUSASCII, no spaces).
func formatPrintUSASCII(dst []byte, s string, limit int) []byte {
	if len(s) > limit {
		s = s[:limit]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// formatTimestamp writes RFC 3339 with microseconds, "Z" in UTC or a
// numeric offset, without allocating.
func formatTimestamp(dst []byte, t time.Time, loc *time.Location) []byte {
	if loc == nil {
		t = t.UTC()
	} else {
		t = t.In(loc)
	}
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 || year > 9999 {
		return append(dst, '-') // not representable as FULL-DATE
	}
	dst = formatDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = formatDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = formatDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = formatDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = formatDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = formatDigits(dst, sec, 2)
	dst = append(dst, '.')
	dst = formatDigits(dst, t.Nanosecond()/1000, 6)
	_, offset := t.Zone()
	if offset == 0 {
		return append(dst, 'Z')
	}
	sign := byte('+')
	if offset < 0 {
		sign, offset = '-', -offset
	}
	dst = append(dst, sign)
	dst = formatDigits(dst, offset/3600, 2)
	dst = append(dst, ':')
	return formatDigits(dst, offset%3600/60, 2)
}

func formatDigits(dst []byte, v, width int) []byte {
	// Two digits per step from a table: timestamps are on the hot path.
	var buf [8]byte
	i := width
	for i >= 2 {
		d := (v % 100) * 2
		v /= 100
		buf[i-1], buf[i-2] = formatDigitPairs[d+1], formatDigitPairs[d]
		i -= 2
	}
	if i == 1 {
		buf[0] = byte('0' + v%10)
	}
	return append(dst, buf[:width]...)
}

const formatDigitPairs = "00010203040506070809" + "10111213141516171819" + "20212223242526272829" +
	"30313233343536373839" + "40414243444546474849" + "50515253545556575859" + "60616263646566676869" +
	"70717273747576777879" + "80818283848586878889" + "90919293949596979899"

// formatStructuredData writes the SD elements, or "-" when there are none.
func formatStructuredData(dst []byte, attrs, resource pcommon.Map, o *RFC5424Options) []byte {
	start := len(dst)
	dst = formatRecordSD(dst, attrs)
	if o.SDID != "" {
		n := len(dst)
		dst = append(dst, '[')
		dst = append(dst, o.SDID...)
		wrote := false
		for _, name := range o.SDAttributes {
			v, ok := attrs.Get(name)
			if !ok && resource != (pcommon.Map{}) {
				v, ok = resource.Get(name)
			}
			if ok {
				dst = formatSDParam(dst, name, v)
				wrote = true
			}
		}
		if wrote {
			dst = append(dst, ']')
		} else {
			dst = dst[:n] // an element without params says nothing
		}
	}
	if len(dst) == start {
		dst = append(dst, '-')
	}
	return dst
}

// formatSplitSDKey splits "syslog.sd.<id>.<param>" at the first dot after the
// prefix: SD-IDs in use (IANA names, "name@pen") have no dots.
func formatSplitSDKey(k string) (id, param string, ok bool) {
	rest, found := strings.CutPrefix(k, logattr.SyslogSDPrefix)
	if !found {
		return "", "", false
	}
	id, param, found = strings.Cut(rest, ".")
	if !found || id == "" || param == "" {
		return "", "", false
	}
	return id, param, true
}

func formatSDIDSeen(attrs pcommon.Map, id string, before int) bool {
	i := 0
	for k := range attrs.All() {
		if i >= before {
			return false
		}
		if id2, _, ok := formatSplitSDKey(k); ok && id2 == id {
			return true
		}
		i++
	}
	return false
}

// formatSDName writes an SD-NAME from untrusted text: bytes it may not
// hold become '_', and it is cut to 32 bytes.
func formatSDName(dst []byte, s string) []byte {
	if len(s) > formatMaxSDName {
		s = s[:formatMaxSDName]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !formatSDNameByte(c) {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// formatSDParam writes ` name="value"`, escaping '"', '\' and ']' in the
// value as RFC 5424 section 6.3.3 requires.
func formatSDParam(dst []byte, name string, v pcommon.Value) []byte {
	dst = append(dst, ' ')
	dst = formatSDName(dst, name)
	dst = append(dst, '=', '"')
	switch v.Type() {
	case pcommon.ValueTypeStr:
		dst = formatSDValue(dst, v.Str())
	case pcommon.ValueTypeInt:
		dst = strconv.AppendInt(dst, v.Int(), 10)
	case pcommon.ValueTypeBool:
		dst = strconv.AppendBool(dst, v.Bool())
	case pcommon.ValueTypeDouble:
		dst = strconv.AppendFloat(dst, v.Double(), 'g', -1, 64)
	case pcommon.ValueTypeEmpty:
	default:
		dst = formatSDValue(dst, v.AsString())
	}
	return append(dst, '"')
}

func formatSDValue(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\\', ']':
			dst = append(dst, s[last:i]...)
			dst = append(dst, '\\', s[i])
			last = i + 1
		}
	}
	return append(dst, s[last:]...)
}

// formatBody writes the body as text: a string as is, other types in
// their AsString form (JSON for maps and slices, which allocates).
func formatBody(dst []byte, body pcommon.Value) []byte {
	switch body.Type() {
	case pcommon.ValueTypeStr:
		s := body.Str()
		if strings.HasPrefix(s, formatBOM) {
			// A reader strips one leading BOM (RFC 5424 6.4): add one so
			// that the body's own survives.
			dst = append(dst, formatBOM...)
		}
		return append(dst, s...)
	case pcommon.ValueTypeEmpty:
		return dst
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(dst, body.Int(), 10)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(dst, body.Bool())
	case pcommon.ValueTypeDouble:
		return strconv.AppendFloat(dst, body.Double(), 'g', -1, 64)
	default:
		return append(dst, body.AsString()...)
	}
}
