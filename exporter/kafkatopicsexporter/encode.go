package kafkatopicsexporter

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/otlprecord"
)

// valueEncoder appends one record's message value to dst.
type valueEncoder interface {
	appendValue(dst []byte, res plog.ResourceLogs, scope plog.ScopeLogs, rec plog.LogRecord, deadLetterFor string) ([]byte, error)
}

func newValueEncoder(cfg *Config) valueEncoder {
	switch cfg.Encoding {
	case EncodingOTLPJSON:
		return otlpJSONEncoder{}
	case EncodingOTLPProto:
		return otlpProtoEncoder{}
	default:
		return &cfjs1Encoder{wrappers: cfjs1.Wrappers(cfg.CFJS1.Wrappers), defaultFormat: cfg.CFJS1.DefaultFormat}
	}
}

// cfjs1Encoder writes the cfjs1 line as the receiver got it (dead-letter
// marker included, so the DLQ's consumers see whom it was meant for),
// without the trailing newline: a Kafka message is already one record.
type cfjs1Encoder struct {
	wrappers      cfjs1.Wrappers
	defaultFormat string
}

func (c *cfjs1Encoder) appendValue(dst []byte, res plog.ResourceLogs, scope plog.ScopeLogs, rec plog.LogRecord, dlFor string) ([]byte, error) {
	format := c.defaultFormat
	if v, ok := rec.Attributes().Get(logattr.CFJS1Format); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
		format = v.Str()
	}
	dst = cfjs1.AppendLine(dst, format, c.wrappers.Name(format), res.Resource(), scope.Scope(), rec, dlFor)
	if n := len(dst); n > 0 && dst[n-1] == '\n' {
		dst = dst[:n-1]
	}
	return dst, nil
}

// otlpJSONEncoder and otlpProtoEncoder write each record as a whole OTLP
// logs message holding only that record, with its resource and scope, so
// any OTLP consumer can read a message on its own.
type otlpJSONEncoder struct{}

func (otlpJSONEncoder) appendValue(dst []byte, res plog.ResourceLogs, scope plog.ScopeLogs, rec plog.LogRecord, _ string) ([]byte, error) {
	return otlprecord.AppendJSON(dst, res, scope, rec), nil
}

type otlpProtoEncoder struct{}

func (otlpProtoEncoder) appendValue(dst []byte, res plog.ResourceLogs, scope plog.ScopeLogs, rec plog.LogRecord, _ string) ([]byte, error) {
	return otlprecord.AppendProto(dst, res, scope, rec)
}
