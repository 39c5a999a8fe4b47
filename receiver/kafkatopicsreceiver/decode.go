package kafkatopicsreceiver

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
)

// Attributes every record gets from the Kafka record that carried it.
const (
	AttrTopic     = "messaging.destination.name"
	AttrPartition = "messaging.destination.partition.id"
	AttrKey       = "messaging.kafka.message.key"
	AttrOffset    = "messaging.kafka.offset"
)

// Reasons a record is dropped as undecodable, besides the cfjs1 decoder's.
const (
	reasonEmpty      = "empty"
	reasonOTLPDecode = "otlp_decode_error"
)

// valueDecoder decodes Kafka records into a batch of log records.
type valueDecoder interface {
	// add appends the log records of rec to the batch, or returns why it
	// could not (a drop reason).
	add(rec *kgo.Record) (reason string)
	// take returns the batch and starts an empty one.
	take() plog.Logs
}

func newValueDecoder(cfg *Config) valueDecoder {
	switch cfg.Encoding {
	case EncodingOTLPJSON:
		return &otlpDecoder{u: &plog.JSONUnmarshaler{}, logs: plog.NewLogs()}
	case EncodingOTLPProto:
		return &otlpDecoder{u: &plog.ProtoUnmarshaler{}, logs: plog.NewLogs()}
	default:
		d := &cfjs1Decoder{dec: cfjs1.Decoder{Limits: cfg.CFJS1.Decode}, batch: cfjs1.NewBatch()}
		if len(cfg.CFJS1.Wrappers) > 0 {
			d.dec.Wrappers = cfjs1.Wrappers(cfg.CFJS1.Wrappers)
		}
		return d
	}
}

// cfjs1Decoder decodes values that are one cfjs1 line each (the exporter
// writes it without the newline); records of one host share a resource.
type cfjs1Decoder struct {
	dec   cfjs1.Decoder
	batch *cfjs1.Batch
}

func (c *cfjs1Decoder) add(rec *kgo.Record) string {
	if len(rec.Value) == 0 {
		return reasonEmpty
	}
	lr, err := c.batch.Add(&c.dec, rec.Value)
	if err != nil {
		return cfjs1.DropReason(err)
	}
	stamp(lr, rec)
	return ""
}

func (c *cfjs1Decoder) take() plog.Logs { return c.batch.Take() }

// otlpDecoder decodes values that are a whole OTLP logs message each (the
// exporter writes one record per message; more are taken as they come).
type otlpDecoder struct {
	u    plog.Unmarshaler
	logs plog.Logs
}

func (o *otlpDecoder) add(rec *kgo.Record) string {
	if len(rec.Value) == 0 {
		return reasonEmpty
	}
	ld, err := o.u.UnmarshalLogs(rec.Value)
	if err != nil {
		return reasonOTLPDecode
	}
	if ld.LogRecordCount() == 0 {
		return reasonEmpty
	}
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		sls := rls.At(i).ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				stamp(lrs.At(k), rec)
			}
		}
	}
	rls.MoveAndAppendTo(o.logs.ResourceLogs())
	return ""
}

func (o *otlpDecoder) take() plog.Logs {
	ld := o.logs
	o.logs = plog.NewLogs()
	return ld
}

// partitionIDs are the partition attribute's values of the first
// partitions, made once: a topic rarely has more.
var partitionIDs = func() []string {
	ids := make([]string, 256)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	return ids
}()

// stamp gives a log record the topic, partition, offset and key of the
// Kafka record that carried it.
func stamp(lr plog.LogRecord, rec *kgo.Record) {
	a := lr.Attributes()
	a.EnsureCapacity(a.Len() + 4)
	a.PutStr(AttrTopic, rec.Topic)
	if p := int(rec.Partition); p >= 0 && p < len(partitionIDs) {
		a.PutStr(AttrPartition, partitionIDs[p])
	} else {
		a.PutStr(AttrPartition, strconv.Itoa(p))
	}
	a.PutInt(AttrOffset, rec.Offset)
	if rec.Key != nil {
		a.PutStr(AttrKey, string(rec.Key))
	}
}
