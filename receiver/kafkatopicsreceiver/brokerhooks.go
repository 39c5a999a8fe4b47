package kafkatopicsreceiver

import (
	"context"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/metric"
)

// brokerErrors counts failed connections to brokers and failed requests on
// them. franz-go retries both by itself, so a broker that is down never
// reaches a poll as an error: without these an outage would show only as a
// lag that grows.
type brokerErrors struct{ r *kafkaReceiver }

var (
	reasonConnect = metric.WithAttributes(attrReason.String("connect"))
	reasonRead    = metric.WithAttributes(attrReason.String("read"))
	reasonWrite   = metric.WithAttributes(attrReason.String("write"))
)

var (
	_ kgo.HookBrokerConnect = brokerErrors{}
	_ kgo.HookBrokerRead    = brokerErrors{}
	_ kgo.HookBrokerWrite   = brokerErrors{}
)

func (b brokerErrors) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		b.r.tel.LogxKafkatopicsReceiverBrokerErrors.Add(context.Background(), 1, reasonConnect)
	}
}

func (b brokerErrors) OnBrokerRead(_ kgo.BrokerMetadata, _ int16, _ int, _, _ time.Duration, err error) {
	if err != nil {
		b.r.tel.LogxKafkatopicsReceiverBrokerErrors.Add(context.Background(), 1, reasonRead)
	}
}

func (b brokerErrors) OnBrokerWrite(_ kgo.BrokerMetadata, _ int16, _ int, _, _ time.Duration, err error) {
	if err != nil {
		b.r.tel.LogxKafkatopicsReceiverBrokerErrors.Add(context.Background(), 1, reasonWrite)
	}
}
