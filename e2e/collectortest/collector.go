// Package collectortest starts whole otelcol-logx collectors in-process, from
// components.Factories() and a YAML string, for end-to-end tests.
package collectortest // import "github.com/otelcol-logx/otelcol-logx/e2e/collectortest"

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/otelcol"

	"github.com/otelcol-logx/otelcol-logx/components"
)

// quietTelemetry is merged under every test config: it turns off the
// collector's own Prometheus endpoint (a fixed port that concurrent test
// collectors would fight over). A test config may set it back, with ports of
// its own or through WithFreeSelfPorts.
const quietTelemetry = "yaml:service::telemetry::metrics::level: none"

// startTimeout bounds how long Start waits for the collector to run.
const startTimeout = 30 * time.Second

// Collector is a running in-process collector.
type Collector struct {
	col  *otelcol.Collector
	done chan error
	self selfPorts
}

// Option adjusts how Start builds the collector.
type Option func(*settings)

type settings struct {
	factories     func() (otelcol.Factories, error)
	sinks         map[string]*Sink
	freeSelfPorts bool
}

// WithFactories replaces components.Factories (for a test that adds a
// component of its own).
func WithFactories(f func() (otelcol.Factories, error)) Option {
	return func(s *settings) { s.factories = f }
}

// WithSinks adds the test-only exporter type "sink": the exporter named
// "sink/NAME" delivers into sinks[NAME].
func WithSinks(sinks map[string]*Sink) Option {
	return func(s *settings) { s.sinks = sinks }
}

// Start runs a collector on the YAML config and returns once it is running.
// It fails the test if the collector does not start; the collector is shut
// down when the test ends (or earlier, by Shutdown).
//
// Run configs with fixed self-observability ports (the shipped
// configs/*.yaml) with WithFreeSelfPorts. Do not start collectors from
// parallel tests of one package when any of them serves gRPC: otelcol sets
// grpc's process-wide logger as a collector starts, which the race detector
// reports against a running gRPC server's logging.
func Start(t testing.TB, yamlConfig string, opts ...Option) *Collector {
	t.Helper()
	s := settings{factories: components.Factories}
	for _, o := range opts {
		o(&s)
	}
	factories := s.factories
	if s.sinks != nil {
		base := factories
		factories = func() (otelcol.Factories, error) {
			f, err := base()
			if err != nil {
				return f, err
			}
			sink := newSinkFactory(s.sinks)
			f.Exporters[sink.Type()] = sink
			return f, nil
		}
	}

	uris := []string{quietTelemetry, "yaml:" + yamlConfig}
	var self selfPorts
	if s.freeSelfPorts {
		self = freeSelfPorts(t, yamlConfig)
		uris = append(uris, self.override) // merged over the config
	}

	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{Command: components.Name, Description: components.Description, Version: components.Version},
		Factories: factories,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:              uris,
			ProviderFactories: components.Providers(),
			DefaultScheme:     "env",
		}},
		DisableGracefulShutdown: true,
	})
	if err != nil {
		t.Fatalf("collectortest: creating collector: %v", err)
	}
	c := &Collector{col: col, done: make(chan error, 1), self: self}
	go func() { c.done <- col.Run(context.Background()) }()

	if err := c.waitRunning(); err != nil {
		t.Fatalf("collectortest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Shutdown(); err != nil {
			t.Errorf("collectortest: shutdown: %v", err)
		}
	})
	return c
}

// waitRunning polls the collector's state: otelcol offers no notification.
func (c *Collector) waitRunning() error {
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if c.col.GetState() == otelcol.StateRunning {
			return nil
		}
		select {
		case err := <-c.done:
			c.done <- err // keep it for Shutdown
			return errors.Join(errors.New("collector exited during start-up"), err)
		case <-deadline.C:
			return errors.New("collector did not reach the running state within " + startTimeout.String())
		case <-tick.C:
		}
	}
}

// Shutdown stops the collector and waits for Run to return. It is safe to
// call more than once.
func (c *Collector) Shutdown() error {
	if c.done == nil {
		return nil
	}
	c.col.Shutdown()
	err := <-c.done
	c.done = nil
	return err
}
