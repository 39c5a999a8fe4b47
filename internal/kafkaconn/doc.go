// Package kafkaconn is how the distribution's Kafka components reach a
// cluster: the brokers, client id, TLS and SASL options they share, their
// validation, and the franz-go client options and logger made from them.
// The producer (kafkatopics exporter) and the consumer (kafkatopics
// receiver) add their own options to these.
package kafkaconn // import "github.com/otelcol-logx/otelcol-logx/internal/kafkaconn"
