package journalreceiver

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
)

// AttrPrefix prefixes journal fields as attributes: field _SYSTEMD_UNIT
// becomes attribute "journal._SYSTEMD_UNIT" (the field name as journald
// spells it, so that journalctl's documentation applies unchanged).
const AttrPrefix = "journal."

// Journal field names the receiver maps to the log model.
const (
	fieldMessage    = "MESSAGE"
	fieldPriority   = "PRIORITY"
	fieldRealtime   = "__REALTIME_TIMESTAMP"
	fieldCursor     = "__CURSOR"
	fieldHostname   = "_HOSTNAME"
	fieldUnit       = "_SYSTEMD_UNIT"
	fieldIdentifier = "SYSLOG_IDENTIFIER"
)

// maxKeyCache bounds the field-name-to-attribute-key cache: field names are
// chosen by writers, so their number is not bounded by the journal.
const maxKeyCache = 4096

// converter turns journal entries into log records.
type converter struct {
	include        map[string]bool // nil: all fields
	exclude        map[string]bool
	rawInvalid     bool // invalid UTF-8 kept as bytes rather than replaced
	defaultService string
	keys           map[string]string
}

func newConverter(cfg *Config) *converter {
	c := &converter{
		exclude:        map[string]bool{fieldMessage: true, fieldCursor: true, fieldRealtime: true},
		rawInvalid:     cfg.InvalidUTF8 == "bytes",
		defaultService: cfg.DefaultService,
		keys:           make(map[string]string),
	}
	if len(cfg.Fields.Include) > 0 {
		c.include = make(map[string]bool, len(cfg.Fields.Include))
		for _, f := range cfg.Fields.Include {
			c.include[f] = true
		}
	}
	for _, f := range cfg.Fields.Exclude {
		c.exclude[f] = true
	}
	return c
}

// wanted says whether field name becomes an attribute.
func (c *converter) wanted(name string) bool {
	if c.include != nil {
		return c.include[name]
	}
	return !c.exclude[name]
}

// key returns the attribute key of a field, without allocating for names
// seen before.
func (c *converter) key(name string) string {
	if k, ok := c.keys[name]; ok {
		return k
	}
	k := AttrPrefix + name
	if len(c.keys) < maxKeyCache {
		c.keys[k[len(AttrPrefix):]] = k
	}
	return k
}

// batchBuilder collects records into one plog.Logs, one ResourceLogs per
// host name.
type batchBuilder struct {
	logs    plog.Logs
	byHost  map[string]plog.LogRecordSlice
	entries int
	bytes   int
}

func newBatchBuilder() *batchBuilder {
	return &batchBuilder{logs: plog.NewLogs(), byHost: make(map[string]plog.LogRecordSlice)}
}

func (b *batchBuilder) records(host string) plog.LogRecordSlice {
	if s, ok := b.byHost[host]; ok {
		return s
	}
	rl := b.logs.ResourceLogs().AppendEmpty()
	if host != "" {
		rl.Resource().Attributes().PutStr(logattr.HostName, strings.ToValidUTF8(host, "\uFFFD"))
	}
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("github.com/otelcol-logx/otelcol-logx/receiver/journalreceiver")
	s := sl.LogRecords()
	b.byHost[host] = s
	return s
}

// append converts e into a record of the batch.
func (c *converter) append(b *batchBuilder, e *Entry, observed pcommon.Timestamp) {
	host, _ := e.Get(fieldHostname)
	lr := b.records(host).AppendEmpty()
	lr.SetObservedTimestamp(observed)
	attrs := lr.Attributes()
	attrs.EnsureCapacity(e.Len() + 2)
	var unit, ident string
	for i := 0; i < e.Len(); i++ {
		name, value := e.Field(i)
		switch name {
		case fieldMessage:
			c.setValue(lr.Body(), value)
		case fieldPriority:
			if len(value) == 1 && value[0] >= '0' && value[0] <= '7' {
				sev := syslog.Severity(value[0] - '0')
				lr.SetSeverityNumber(sev.OTel())
				lr.SetSeverityText(sev.Text())
			}
		case fieldRealtime:
			if us, err := strconv.ParseUint(value, 10, 63); err == nil {
				lr.SetTimestamp(pcommon.Timestamp(us * uint64(time.Microsecond)))
			}
		case fieldUnit:
			unit = value
		case fieldIdentifier:
			ident = value
		}
		if c.wanted(name) {
			c.putAttr(attrs, c.key(name), value)
		}
	}
	// Service identity: the unit, set by journald and so trusted, else what
	// the writer called itself.
	switch {
	case unit != "":
		attrs.PutStr(logattr.Service, c.str(unit))
		attrs.PutStr(logattr.SystemdUnit, c.str(unit))
	case ident != "":
		attrs.PutStr(logattr.Service, c.str(ident))
	case c.defaultService != "":
		attrs.PutStr(logattr.Service, c.defaultService)
	}
	b.entries++
	b.bytes += e.Size()
}

// putAttr sets key to value; a field that repeats in the entry becomes a
// slice of its values.
func (c *converter) putAttr(attrs pcommon.Map, key, value string) {
	prev, ok := attrs.Get(key)
	if !ok {
		c.setValue(attrs.PutEmpty(key), value)
		return
	}
	if prev.Type() != pcommon.ValueTypeSlice {
		old := pcommon.NewValueEmpty()
		prev.MoveTo(old)
		s := prev.SetEmptySlice()
		old.MoveTo(s.AppendEmpty())
	}
	c.setValue(prev.Slice().AppendEmpty(), value)
}

// setValue stores a journal value: a string when it is valid UTF-8, else
// per invalid_utf8.
func (c *converter) setValue(v pcommon.Value, value string) {
	if utf8.ValidString(value) {
		v.SetStr(value)
		return
	}
	if c.rawInvalid {
		v.SetEmptyBytes().FromRaw([]byte(value))
		return
	}
	v.SetStr(strings.ToValidUTF8(value, "\uFFFD"))
}

// str is setValue for values that must be strings (service identity).
func (c *converter) str(value string) string {
	return strings.ToValidUTF8(value, "\uFFFD") // no copy when valid
}

// service is the logx.service that append writes for e: the batcher keeps
// each batch to one service, for the stage's fair share and drop counts.
func (c *converter) service(e *Entry) string {
	var unit, ident string
	for i := 0; i < e.Len(); i++ {
		switch name, value := e.Field(i); name {
		case fieldUnit:
			unit = value
		case fieldIdentifier:
			ident = value
		}
	}
	switch {
	case unit != "":
		return c.str(unit)
	case ident != "":
		return c.str(ident)
	}
	return c.defaultService
}
