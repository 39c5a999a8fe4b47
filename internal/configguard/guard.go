package configguard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/otelcol"
	"go.uber.org/zap"
)

// Settings are what a Guard needs to know about its process.
type Settings struct {
	// StateDir holds the last good file; empty keeps nothing on disk.
	StateDir string
	// Mode is ModeRun for the collector itself, ModeCheck for subcommands.
	Mode Mode
	// ConfigFiles are the files given by --config, which must be YAML maps.
	ConfigFiles []string
	// StartWithLastGood reports whether a start with an invalid
	// configuration may fall back to the last good one.
	StartWithLastGood func() bool
}

// Guard is the state of configuration checking for one collector process.
type Guard struct {
	set Settings

	mu       sync.Mutex
	logger   *zap.Logger
	running  *confmap.Conf // what the collector runs; nil before the first start
	pending  []error       // provider failures of the resolve in progress
	unsaved  *confmap.Conf // accepted, written to disk once it has started
	saved    []byte        // content of the last good file as last written
	armed    atomic.Bool   // a converter exists: providers may defer their errors to it
	failures atomic.Int64
	success  atomic.Int64
}

// New returns a Guard for the given process settings.
func New(set Settings) *Guard {
	if set.StartWithLastGood == nil {
		set.StartWithLastGood = func() bool { return false }
	}
	g := &Guard{set: set, logger: zap.NewNop()}
	g.success.Store(1)
	return g
}

var defaultGuard = sync.OnceValue(func() *Guard {
	mode, files := commandLine(os.Args[1:])
	return New(Settings{
		StateDir:          os.Getenv("LOGX_STATE_DIR"),
		Mode:              mode,
		ConfigFiles:       files,
		StartWithLastGood: StartWithLastGoodGate.IsEnabled,
	})
})

// Default is the process's guard, shared by the converter, the file provider
// and the telemetry factory of the binary.
func Default() *Guard { return defaultGuard() }

// Failures is the number of configurations refused since the process started.
func (g *Guard) Failures() int64 { return g.failures.Load() }

// LastReloadSucceeded is 1 when the configuration last read was applied, 0
// when it was refused and an older one runs instead.
func (g *Guard) LastReloadSucceeded() int64 { return g.success.Load() }

// LastGoodPath is where the last good configuration is kept, or "".
func (g *Guard) LastGoodPath() string {
	if g.set.StateDir == "" {
		return ""
	}
	return filepath.Join(g.set.StateDir, LastGoodFile)
}

func (g *Guard) arm(logger *zap.Logger) {
	g.mu.Lock()
	if logger != nil {
		g.logger = logger
	}
	g.mu.Unlock()
	g.armed.Store(true)
}

// deferError records a provider failure for the converter of the same
// resolve to act on.
func (g *Guard) deferError(err error) {
	g.mu.Lock()
	g.pending = append(g.pending, err)
	g.mu.Unlock()
}

func (g *Guard) isConfigFile(uri string) bool {
	path, ok := filePath(uri)
	return ok && slices.Contains(g.set.ConfigFiles, path)
}

// convert decides on one resolved configuration: it passes a good one
// through and replaces a bad one by the running one (on reload) or the last
// good one (at start, when the gate allows). An error is returned only
// where the upstream collector would fail too.
func (g *Guard) convert(ctx context.Context, conf *confmap.Conf, factories func() (otelcol.Factories, error)) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	pending := g.pending
	g.pending = nil

	err := errors.Join(pending...)
	if err == nil {
		err = check(ctx, conf, factories)
	}
	if err == nil {
		return g.accept(conf)
	}
	if g.set.Mode != ModeRun {
		return err
	}
	if g.running == nil {
		return g.startOnLastGood(ctx, conf, factories, err)
	}
	// Logged before it is counted: whoever sees the count finds the reason.
	g.logger.Error("Configuration reload refused: the running configuration stays in force. Fix the configuration and reload again (systemctl reload otelcol-logx).",
		zap.Error(err))
	g.failures.Add(1)
	g.success.Store(0)
	return replace(conf, g.running)
}

func (g *Guard) accept(conf *confmap.Conf) error {
	running := confmap.New()
	if err := running.Merge(conf); err != nil {
		return err
	}
	g.running = running
	g.success.Store(1)
	if g.set.Mode == ModeRun {
		g.unsaved = running
	}
	return nil
}

// startOnLastGood handles an invalid configuration at start.
func (g *Guard) startOnLastGood(ctx context.Context, conf *confmap.Conf, factories func() (otelcol.Factories, error), invalid error) error {
	if !g.set.StartWithLastGood() {
		return invalid
	}
	path := g.LastGoodPath()
	if path == "" {
		return fmt.Errorf("%w (no last good configuration to start on: LOGX_STATE_DIR is not set)", invalid)
	}
	lastGood, err := readLastGood(path)
	if err == nil {
		err = check(ctx, lastGood, factories)
	}
	if err != nil {
		return fmt.Errorf("%w (and the last good configuration cannot be used either: %w)", invalid, err)
	}
	g.logger.Warn("THE CONFIGURATION IS INVALID: starting on the last good configuration instead. Fix the configuration and reload (systemctl reload otelcol-logx); until then this host runs the old configuration.",
		zap.String("last_good_config", path), zap.Error(invalid))
	g.failures.Add(1)
	g.success.Store(0)
	if err := replace(conf, lastGood); err != nil {
		return err
	}
	running := confmap.New()
	if err := running.Merge(conf); err != nil {
		return err
	}
	g.running = running
	return nil
}

// replace makes conf's content that of with.
func replace(conf, with *confmap.Conf) error {
	for key := range conf.ToStringMap() {
		conf.Delete(key)
	}
	return conf.Merge(with)
}

// Started tells the guard that the collector finished starting the
// configuration it last accepted: that one becomes the last good one.
func (g *Guard) Started() {
	g.mu.Lock()
	defer g.mu.Unlock()
	conf := g.unsaved
	g.unsaved = nil
	if conf == nil || g.set.StateDir == "" {
		return
	}
	data, err := encode(conf)
	if err == nil && !bytes.Equal(data, g.saved) {
		err = writeAtomic(g.LastGoodPath(), data)
	}
	if err != nil {
		g.logger.Warn("Cannot keep the last good configuration; a start with an invalid configuration will not be able to fall back to it",
			zap.String("path", g.LastGoodPath()), zap.Error(err))
		return
	}
	g.saved = data
}
