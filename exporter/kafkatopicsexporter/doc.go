// Package kafkatopicsexporter writes log records to Kafka with franz-go,
// choosing each record's topic from a template over its attributes, with a
// dead-letter topic for cfjs1 dead-letter copies and a fallback topic for
// records the template cannot route or whose topic is not allowed or does
// not exist on the cluster (read from the brokers, knowntopics.go). Records
// of one host and service share a partition key, so Kafka keeps them in
// order. A partition that fails does not hold the others: its records wait
// in a bounded backlog of its own, in order (backlog.go).
package kafkatopicsexporter // import "github.com/otelcol-logx/otelcol-logx/exporter/kafkatopicsexporter"
