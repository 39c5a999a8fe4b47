package ingest

import (
	"bytes"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/sharedvalue"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
)

// Batch limits of Lines: a batch is flushed when it reaches either, or
// when the reader is about to wait for more input.
const (
	MaxBatchRecords = 1024
	MaxBatchBytes   = 1 << 20
)

// hostName is this machine's name, read once: it does not change under a
// running daemon, and reading it per batch would be a syscall per batch.
var hostName = sync.OnceValue(func() string {
	name, _ := os.Hostname()
	return name
})

// replacementChar replaces each invalid UTF-8 sequence, so that every body
// and attribute is a valid OTLP string.
const replacementChar = "\uFFFD"

// LinesSettings configure a Lines.
type LinesSettings struct {
	Stage  *Stage
	Parser syslog.Parser
	// Scope names the instrumentation scope of the records (the receiver).
	Scope string
	// Decorate, if set, adds per-source attributes to each parsed record
	// (peer credentials, service identity) and is given the number of them
	// ahead of time through ExtraAttributes, so the attribute slice is
	// allocated once.
	Decorate        func(lr plog.LogRecord)
	ExtraAttributes int
	// OnParseError counts lines that were not valid for the format (kept,
	// with the whole line as body).
	OnParseError func(reason string)
	// ServiceKey, if set, tells each line's service before it is parsed,
	// as Decorate will write it to logattr.Service: each batch is then of
	// one service (a change of service flushes it) and carries it as
	// Batch.Key, so that the Stage shares its bound fairly between
	// services and counts drops by service (servicekey.go). Unset,
	// batches have no Key, as before fair share.
	ServiceKey *ServiceKey
}

// Lines collects one source's lines into batches and offers them to the
// Stage. It is used by one reader goroutine; its settings must not change
// once lines were added (batches are parsed later, by the Stage's sender).
type Lines struct {
	set   LinesSettings
	arena []byte
	ends  []int
	// key is the service of the lines in the current batch.
	key string
}

// NewLines returns an empty Lines.
func NewLines(set LinesSettings) *Lines {
	return &Lines{set: set}
}

// Add copies a line into the current batch (invalid UTF-8 replaced),
// flushing first if the batch is full.
func (l *Lines) Add(line []byte) {
	if len(l.ends) >= MaxBatchRecords || len(l.arena)+len(line) > MaxBatchBytes {
		l.Flush()
	}
	if k := l.set.ServiceKey; k != nil && k.fromAppName {
		l.keyLine(k, line)
	}
	if utf8.Valid(line) {
		l.arena = append(l.arena, line...)
	} else {
		l.arena = appendValidUTF8(l.arena, line)
	}
	l.ends = append(l.ends, len(l.arena))
}

// keyLine makes line's service the current batch's, flushing the lines of
// another service first. The comparison does not allocate; a new key is
// copied once per run of one service.
func (l *Lines) keyLine(k *ServiceKey, line []byte) {
	app := appName(line, l.set.Parser.Format)
	if len(app) == 0 {
		if l.key != k.service {
			l.Flush()
			l.key = k.service
		}
		return
	}
	if string(app) != l.key {
		l.Flush()
		l.key = string(app)
	}
}

// Len returns the number of lines waiting in the current batch.
func (l *Lines) Len() int { return len(l.ends) }

// Flush hands the current batch to the Stage, to be parsed by the
// Stage's sender: the reader goes straight back to reading.
func (l *Lines) Flush() {
	n := len(l.ends)
	if n == 0 {
		return
	}
	// The batch gets an exact copy (one allocation), so that what it holds
	// is what it counts against the bound; the reader reuses its arena.
	arena, ends := bytes.Clone(l.arena), slices.Clone(l.ends)
	size := LinesBatchSize(len(arena), n)
	l.arena, l.ends = l.arena[:0], l.ends[:0]
	set := &l.set
	observed := pcommon.NewTimestampFromTime(time.Now())
	key := l.key
	if k := l.set.ServiceKey; k != nil && !k.fromAppName {
		key = k.service
	}
	l.set.Stage.Offer(Batch{
		Key:        key,
		Size:       size,
		ParsedSize: int64(n) * parsedRecordBytes(l.set.ExtraAttributes),
		Records:    n,
		Build:      func() plog.Logs { return set.build(arena, ends, observed) },
	})
}

// build parses a batch of lines. arena is never written again once handed
// over, so its text is viewed as one string without a copy: bodies and
// attribute values are substrings of it.
func (set *LinesSettings) build(arena []byte, ends []int, observed pcommon.Timestamp) plog.Logs {
	text := unsafe.String(unsafe.SliceData(arena), len(arena)) //nolint:gosec // G103: the arena is not written again while the string lives (see above)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	if host := hostName(); host != "" {
		// Local writers are on this host: downstream keys (the Kafka
		// partition key, the RFC 5424 HOSTNAME) need it.
		rl.Resource().Attributes().PutStr(logattr.HostName, host)
	}
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(set.Scope)
	records := sl.LogRecords()
	records.EnsureCapacity(len(ends))
	// One clock reading per batch, for the year RFC 3164 stamps lack.
	parser := set.Parser
	if parser.Now == nil {
		now := observed.AsTime()
		parser.Now = func() time.Time { return now }
	}
	start := 0
	for i, end := range ends {
		if i%128 == 127 {
			// Parsing is the heavy part; let a reader that has data waiting
			// run first, so that writers never wait on the parser.
			runtime.Gosched()
		}
		lr := records.AppendEmpty()
		lr.SetObservedTimestamp(observed)
		lr.Attributes().EnsureCapacity(4 + set.ExtraAttributes) // RFC 3164 needs at most 4
		if err := parser.Parse(text[start:end], lr); err != nil && set.OnParseError != nil {
			if pe, ok := err.(*syslog.ParseError); ok {
				set.OnParseError(pe.Reason)
			} else {
				set.OnParseError("other")
			}
		}
		if set.Decorate != nil {
			set.Decorate(lr)
		}
		start = end
	}
	return ld
}

func appendValidUTF8(dst, src []byte) []byte {
	for len(src) > 0 {
		r, size := utf8.DecodeRune(src)
		if r == utf8.RuneError && size <= 1 {
			dst = append(dst, replacementChar...)
			src = src[1:]
			continue
		}
		dst = append(dst, src[:size]...)
		src = src[size:]
	}
	return dst
}

// ServiceIdentity writes the service identity (logattr.Service) into
// records: trusted if not empty (a systemd unit, or the service a FIFO
// belongs to), else the record's syslog app name, else fallback; nothing
// if all are empty. Its values are made once and shared by every record
// (internal/sharedvalue), so writing it allocates nothing.
type ServiceIdentity struct {
	trusted, fallback sharedvalue.Value
	hasTrusted        bool
	hasFallback       bool
	key               ServiceKey
}

// NewServiceIdentity returns the identity for one source. Call it at run
// time (when a source opens), not from init.
func NewServiceIdentity(trusted, fallback string) ServiceIdentity {
	return ServiceIdentity{
		trusted:     sharedvalue.Of(pcommon.NewValueStr(trusted)),
		fallback:    sharedvalue.Of(pcommon.NewValueStr(fallback)),
		hasTrusted:  trusted != "",
		hasFallback: fallback != "",
		key:         identityKey(trusted, fallback),
	}
}

func identityKey(trusted, fallback string) ServiceKey {
	if trusted != "" {
		return *FixedServiceKey(trusted)
	}
	return *AppNameServiceKey(fallback)
}

// Key is how Lines tells the service this identity writes, for
// LinesSettings.ServiceKey.
func (id *ServiceIdentity) Key() *ServiceKey { return &id.key }

// Set writes the identity into lr.
func (id *ServiceIdentity) Set(lr plog.LogRecord) {
	attrs := lr.Attributes()
	switch {
	case id.hasTrusted:
		id.trusted.CopyTo(attrs.PutEmpty(logattr.Service))
	default:
		if app, ok := attrs.Get(logattr.SyslogAppName); ok && app.Str() != "" {
			// Taken before PutEmpty, which may move the attributes.
			shared := sharedvalue.Of(app)
			shared.CopyTo(attrs.PutEmpty(logattr.Service))
		} else if id.hasFallback {
			id.fallback.CopyTo(attrs.PutEmpty(logattr.Service))
		}
	}
}
