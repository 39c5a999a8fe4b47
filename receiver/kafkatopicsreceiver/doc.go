// Package kafkatopicsreceiver consumes log records from Kafka topics as a
// member of a consumer group: the pair of the kafkatopics exporter, for the
// tier that reads what tier 2 produced. Offsets are committed only after
// the pipeline accepted the records (at least once), and each partition's
// records enter the pipeline in their order.
package kafkatopicsreceiver // import "github.com/otelcol-logx/otelcol-logx/receiver/kafkatopicsreceiver"
