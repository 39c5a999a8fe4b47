package configguard

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/exporter/nopexporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/service/telemetry"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// goodConfig runs one pipeline from the counting receiver to a debug
// exporter; verbosity lets a test make a valid change.
func goodConfig(verbosity string) string {
	return `
receivers:
  counting: {}
exporters:
  debug:
    verbosity: ` + verbosity + `
service:
  telemetry:
    metrics: {level: none}
  pipelines:
    logs: {receivers: [counting], exporters: [debug]}
`
}

// The configurations a reload must refuse, each with a word of the error
// the operator is shown.
var badConfigs = []struct{ name, content, says string }{
	{"yaml garbage", "receivers: [unclosed\n\t: : :", "not a YAML map"},
	{"no pipelines", "receivers: {counting: {}}\nexporters: {debug: {}}\nservice: {pipelines: {}}\n", "service::pipelines is empty"},
	{"exporter fails validation", "receivers: {counting: {}}\nexporters: {debug: {use_internal_logger: true, output_paths: [x]}}\nservice: {pipelines: {logs: {receivers: [counting], exporters: [debug]}}}\n", "output_paths is not supported"},
	{"invalid env reference", "receivers: {counting: {}}\nexporters:\n  debug:\n    verbosity: ${env:NOT-A-NAME}\nservice: {pipelines: {logs: {receivers: [counting], exporters: [debug]}}}\n", "invalid name"},
	{"unknown component", "receivers: {counting: {}}\nexporters: {nosuch: {}}\nservice: {pipelines: {logs: {receivers: [counting], exporters: [nosuch]}}}\n", "nosuch"},
}

// countingReceiver counts how often receivers of this type were started:
// a restart of the pipelines shows as a second start.
var receiverStarts atomic.Int64

type countingReceiver struct{}

func (countingReceiver) Start(context.Context, component.Host) error {
	receiverStarts.Add(1)
	return nil
}
func (countingReceiver) Shutdown(context.Context) error { return nil }

type countingConfig struct {
	Label string `mapstructure:"label"`
}

func countingFactory() receiver.Factory {
	return receiver.NewFactory(component.MustNewType("counting"),
		func() component.Config { return &countingConfig{} },
		receiver.WithLogs(func(context.Context, receiver.Settings, component.Config, consumer.Logs) (receiver.Logs, error) {
			return countingReceiver{}, nil
		}, component.StabilityLevelDevelopment))
}

// testFactories are the components of the in-process collectors: the
// telemetry is the upstream one with the guard's ready watcher, as
// logxtelemetry wires it in the binary.
func testFactories(g *Guard) func() (otelcol.Factories, error) {
	base := otelconftelemetry.NewFactory()
	tel := telemetry.NewFactory(base.CreateDefaultConfig,
		telemetry.WithCreateResource(base.CreateResource),
		telemetry.WithCreateMeterProvider(base.CreateMeterProvider),
		telemetry.WithCreateTracerProvider(base.CreateTracerProvider),
		telemetry.WithCreateLogger(func(ctx context.Context, set telemetry.LoggerSettings, cfg component.Config) (*zap.Logger, component.ShutdownFunc, error) {
			l, sd, err := base.CreateLogger(ctx, set, cfg)
			if err != nil {
				return nil, nil, err
			}
			return l.WithOptions(zap.WrapCore(g.WatchReady)), sd, nil
		}))
	return func() (otelcol.Factories, error) {
		return otelcol.Factories{
			Receivers: map[component.Type]receiver.Factory{component.MustNewType("counting"): countingFactory()},
			Exporters: map[component.Type]exporter.Factory{
				component.MustNewType("debug"): debugexporter.NewFactory(),
				component.MustNewType("nop"):   nopexporter.NewFactory(),
			},
			Telemetry: tel,
		}, nil
	}
}

// watchedFileProvider is the upstream file provider that lets the test
// announce a change of the file, as a watching provider would.
type watchedFileProvider struct {
	confmap.Provider
	mu      sync.Mutex
	watcher confmap.WatcherFunc
}

func (p *watchedFileProvider) Retrieve(ctx context.Context, uri string, w confmap.WatcherFunc) (*confmap.Retrieved, error) {
	p.mu.Lock()
	p.watcher = w
	p.mu.Unlock()
	return p.Provider.Retrieve(ctx, uri, w)
}

func (p *watchedFileProvider) changed() {
	p.mu.Lock()
	w := p.watcher
	p.mu.Unlock()
	w(&confmap.ChangeEvent{})
}

// running is one in-process collector under a guard.
type running struct {
	t      *testing.T
	guard  *Guard
	file   string
	files  *watchedFileProvider
	col    *otelcol.Collector
	done   chan error
	logs   *observer.ObservedLogs
	result error
}

// newGuard makes a guard for a collector on dir/config.yaml.
func newGuard(dir string, mode Mode, gate bool) *Guard {
	return New(Settings{
		StateDir:          dir,
		Mode:              mode,
		ConfigFiles:       []string{filepath.Join(dir, "config.yaml")},
		StartWithLastGood: func() bool { return gate },
	})
}

// startRun writes content to the guard's config file and runs a collector
// on it; it does not wait for the start.
func startRun(t *testing.T, g *Guard, content string) *running {
	t.Helper()
	file := g.set.ConfigFiles[0]
	require.NoError(t, os.WriteFile(file, []byte(content), 0o600))
	files := &watchedFileProvider{Provider: fileprovider.NewFactory().Create(confmap.ProviderSettings{Logger: zap.NewNop()})}
	core, logs := observer.New(zapcore.InfoLevel)
	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo: component.NewDefaultBuildInfo(),
		Factories: testFactories(g),
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs: []string{file},
			ProviderFactories: []confmap.ProviderFactory{
				g.WrapProvider(confmap.NewProviderFactory(func(confmap.ProviderSettings) confmap.Provider { return files })),
				g.WrapProvider(envprovider.NewFactory()),
			},
			DefaultScheme:      "env",
			ConverterFactories: []confmap.ConverterFactory{g.ConverterFactory(testFactories(g))},
		}},
		LoggingOptions:          []zap.Option{zap.WrapCore(func(c zapcore.Core) zapcore.Core { return zapcore.NewTee(c, core) })},
		DisableGracefulShutdown: true,
		SkipSettingGRPCLogger:   true,
	})
	require.NoError(t, err)
	r := &running{t: t, guard: g, file: file, files: files, col: col, done: make(chan error, 1), logs: logs}
	go func() { r.done <- col.Run(context.Background()) }()
	t.Cleanup(func() {
		col.Shutdown()
		r.exited(10 * time.Second)
	})
	return r
}

// waitRunning fails the test unless the collector reaches the running state.
func (r *running) waitRunning() {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		select {
		case err := <-r.done:
			r.done <- err
			r.t.Fatalf("collector exited: %v", err)
		default:
		}
		return r.col.GetState() == otelcol.StateRunning
	}, 20*time.Second, 5*time.Millisecond)
}

// exited waits for Run to return and reports whether it did.
func (r *running) exited(d time.Duration) bool {
	if r.done == nil {
		return true
	}
	select {
	case r.result = <-r.done:
		r.done = nil
		return true
	case <-time.After(d):
		return false
	}
}

// reload writes content and announces the change; it waits until the guard
// has decided (a refusal is counted, an acceptance shows in running).
func (r *running) reload(content string) {
	r.t.Helper()
	if content == "" {
		require.NoError(r.t, os.Remove(r.file))
	} else {
		require.NoError(r.t, os.WriteFile(r.file, []byte(content), 0o600))
	}
	r.files.changed()
}

func (r *running) logged(msg string) bool {
	return r.logs.FilterMessageSnippet(msg).Len() > 0
}
