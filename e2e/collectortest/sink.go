package collectortest

import (
	"context"
	"errors"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
)

// ErrRefused is what a refusing Sink returns.
var ErrRefused = errors.New("collectortest sink: refusing data")

// Sink collects the logs that reach a "sink" exporter and can be told to
// refuse them (to play a downstream that is down).
type Sink struct {
	consumertest.LogsSink
	refusing atomic.Bool
	refused  atomic.Int64
}

// SetRefusing makes the sink refuse (true) or accept (false) what follows.
func (s *Sink) SetRefusing(refuse bool) { s.refusing.Store(refuse) }

// RefusedRecords counts the log records refused so far.
func (s *Sink) RefusedRecords() int64 { return s.refused.Load() }

// ConsumeLogs implements consumer.Logs.
func (s *Sink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if s.refusing.Load() {
		s.refused.Add(int64(ld.LogRecordCount()))
		return ErrRefused
	}
	return s.LogsSink.ConsumeLogs(ctx, ld)
}

// Capabilities implements consumer.Logs.
func (*Sink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

var sinkType = component.MustNewType("sink")

type sinkConfig struct{}

func newSinkFactory(sinks map[string]*Sink) exporter.Factory {
	return exporter.NewFactory(sinkType,
		func() component.Config { return &sinkConfig{} },
		exporter.WithLogs(func(_ context.Context, set exporter.Settings, _ component.Config) (exporter.Logs, error) {
			s, ok := sinks[set.ID.Name()]
			if !ok {
				return nil, errors.New("collectortest: no sink named " + set.ID.Name())
			}
			return sinkExporter{s}, nil
		}, component.StabilityLevelDevelopment))
}

type sinkExporter struct{ *Sink }

func (sinkExporter) Start(context.Context, component.Host) error { return nil }
func (sinkExporter) Shutdown(context.Context) error              { return nil }
