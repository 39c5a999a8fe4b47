// Package otlprecord encodes one log record, with its resource and scope,
// as a whole OTLP LogsData message holding only that record: protobuf (the
// tenant buffer's on-disk payload, the Kafka exporter's otlp_proto value)
// or OTLP JSON (the Kafka exporter's otlp_json value, the tenant buffer's
// NDJSON push lines). A reader needs nothing else to rebuild the record,
// so each message can be stored, sent and re-batched on its own.
//
// One package for every user, so that the bytes a record becomes do not
// depend on which component wrote them.
package otlprecord // import "github.com/otelcol-logx/otelcol-logx/internal/otlprecord"
