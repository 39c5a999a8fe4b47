package externaljsonprocessor

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/xpdata"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/processor/externaljsonprocessor/internal/metadata"
)

// refreshHook, when set, is called after every refresh of every processor
// (tests use it to wait for a refresh instead of sleeping).
var refreshHook atomic.Pointer[func(id component.ID, source string)]

// enricher holds the sources and the field set the hot path applies.
type enricher struct {
	id          component.ID
	logger      *zap.Logger
	telSettings component.TelemetrySettings
	tel         *metadata.TelemetryBuilder
	guardReg    *guard.Registration
	now         func() time.Time // injectable clock for stale tests

	sources     []*source
	persistDir  string
	startupWait time.Duration

	// current is the prepared field set: replaced (never mutated) by
	// rebuild, read with one atomic load per batch.
	current   atomic.Pointer[fieldSet]
	rebuildMu sync.Mutex

	afterRefresh func(source string) // per-instance test hook

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newProcessor(set component.TelemetrySettings, id component.ID, cfg *Config) (*enricher, error) {
	p := &enricher{
		id:          id,
		logger:      set.Logger,
		telSettings: set,
		now:         time.Now,
		persistDir:  cfg.Persistence.Directory,
		startupWait: cfg.StartupWait,
	}
	for _, sc := range cfg.Sources {
		s := newSource(p, sc)
		if s.cfg.Command != nil {
			s.fetcher = newCommandFetcher(s.cfg.Command, s.cfg.MaxSize)
		}
		// HTTP clients need the host's extensions: made in start.
		p.sources = append(p.sources, s)
	}
	tel, err := metadata.NewTelemetryBuilder(set)
	if err == nil {
		err = tel.RegisterLogxExternaljsonValuesAgeCallback(p.observeAges)
	}
	if err != nil {
		return nil, fmt.Errorf("externaljson: telemetry: %w", err)
	}
	p.tel = tel
	p.current.Store(&fieldSet{})
	return p, nil
}

func (p *enricher) observeAges(_ context.Context, o metric.Float64Observer) error {
	now := p.now()
	for _, s := range p.sources {
		if age, ok := s.age(now); ok {
			o.Observe(age.Seconds(), metric.WithAttributes(metadata.SourceAttr(s.cfg.Name)))
		}
	}
	return nil
}

// start builds the HTTP clients, restores persisted values, starts one
// goroutine per source and waits (bounded by startup_wait) for their first
// fetch.
func (p *enricher) start(ctx context.Context, host component.Host) error {
	reg, err := guard.Register(p.telSettings, p.id, p.guards()...)
	if err != nil {
		return fmt.Errorf("externaljson: guard telemetry: %w", err)
	}
	p.guardReg = reg
	for _, s := range p.sources {
		if s.cfg.HTTP == nil {
			continue
		}
		client, err := s.cfg.HTTP.ToClient(ctx, host.GetExtensions(), p.telSettings)
		if err != nil {
			return fmt.Errorf("externaljson: source %q: http client: %w", s.cfg.Name, err)
		}
		s.fetcher = &httpFetcher{client: client, endpoint: s.cfg.HTTP.Endpoint, maxSize: s.cfg.MaxSize}
	}
	if p.persistDir != "" {
		now := p.now()
		for _, s := range p.sources {
			st, ok, err := loadPersisted(p.persistDir, s.cfg.Name, s.cfg.MaxSize)
			if err != nil {
				p.logger.Warn("externaljson: ignoring unreadable persisted values", zap.String("source", s.cfg.Name), zap.Error(err))
				continue
			}
			if !ok {
				continue
			}
			if ferr := s.restore(ctx, st); ferr != nil {
				p.logger.Warn("externaljson: ignoring persisted values that fail the checks", zap.String("source", s.cfg.Name), zap.Error(ferr))
				continue
			}
			s.evaluateStale(now)
			p.logger.Info("externaljson: restored persisted values", zap.String("source", s.cfg.Name), zap.Time("fetched_at", st.FetchedAt))
		}
		p.rebuild()
	}

	runCtx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	firsts := make([]chan struct{}, len(p.sources))
	for i, s := range p.sources {
		firsts[i] = make(chan struct{})
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			s.run(runCtx, firsts[i])
		}()
	}
	if p.startupWait <= 0 {
		return nil
	}
	deadline := time.NewTimer(p.startupWait)
	defer deadline.Stop()
	for i, first := range firsts {
		select {
		case <-first:
		case <-deadline.C:
			p.logger.Warn("externaljson: first fetch not done within startup_wait; starting without it",
				zap.String("source", p.sources[i].cfg.Name), zap.Duration("startup_wait", p.startupWait))
			return nil
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

func (p *enricher) shutdown(context.Context) error {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
	err := p.guardReg.Unregister()
	p.tel.Shutdown()
	return err
}

// rebuild prepares the field set from every source's current values and
// publishes it. It runs once per refresh or staleness change, never per record.
func (p *enricher) rebuild() {
	p.rebuildMu.Lock()
	defer p.rebuildMu.Unlock()
	var record, resource []field
	for _, s := range p.sources {
		fields := s.effective()
		if s.cfg.Mapping.Target == targetResource {
			resource = append(resource, fields...)
		} else {
			record = append(record, fields...)
		}
	}
	p.current.Store(newFieldSet(record, resource))
}

func (p *enricher) persist(name string, st persistedState) {
	if p.persistDir == "" {
		return
	}
	if err := savePersisted(p.persistDir, name, st); err != nil {
		p.logger.Warn("externaljson: could not persist the last good values", zap.String("source", name), zap.Error(err))
	}
}

func (p *enricher) refreshed(source string) {
	if p.afterRefresh != nil {
		p.afterRefresh(source)
	}
	if h := refreshHook.Load(); h != nil {
		(*h)(p.id, source)
	}
}

// processLogs is the hot path: one atomic load per batch, then a copy of
// ready values into each record (or resource). No parsing, no lock.
func (p *enricher) processLogs(_ context.Context, ld plog.Logs) (plog.Logs, error) {
	fs := p.current.Load()
	if fs.empty() {
		return ld, nil
	}
	var mb xpdata.MapBuilder // scratch for applyPrepared, one per call
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		if len(fs.resource) > 0 {
			applyPrepared(rl.Resource().Attributes(), fs.resource, fs.resourcePrep, &mb)
		}
		if len(fs.record) == 0 {
			continue
		}
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				applyPrepared(lrs.At(k).Attributes(), fs.record, fs.recordPrep, &mb)
			}
		}
	}
	return ld, nil
}
