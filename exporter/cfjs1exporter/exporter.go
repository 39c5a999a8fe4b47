package cfjs1exporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/exporter/cfjs1exporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/jsonstr"
)

var reasonLineTooLong = metric.WithAttributes(attribute.String("reason", "line_too_long"))

// cfjs1Exporter encodes each batch once and hands it to the endpoints.
type cfjs1Exporter struct {
	cfg       *Config
	set       exporter.Settings
	tel       *metadata.TelemetryBuilder
	wrappers  cfjs1.Wrappers
	endpoints []*endpoint
	// lineLimit is the longest line (newline excluded) sent: max_line_size
	// less the room a dead-letter mark may need, so that the line reaches
	// either side whole, as itself or as a copy.
	lineLimit int
	reasons   reasonAttrs

	ctx    context.Context
	cancel context.CancelFunc
	stop   chan struct{}
	wg     sync.WaitGroup

	unregister func() error // the degraded-time callback
	bufs       lineBuffers
}

func newExporter(set exporter.Settings, cfg *Config) (*cfjs1Exporter, error) {
	tel, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	e := &cfjs1Exporter{cfg: cfg, set: set, tel: tel, wrappers: cfjs1.Wrappers(cfg.Wrappers), stop: make(chan struct{}),
		lineLimit: cfg.MaxLineSize - cfg.deadLetterRoom()}
	e.bufs = newLineBuffers(cfg.concurrentBatches() + 1)
	for _, ec := range cfg.Endpoints {
		// The exporter's own id as well: two cfjs1 exporters (a host's
		// main path and its audit path) reach the same endpoints, and their
		// states and counts must not merge.
		set := attribute.NewSet(attribute.String("endpoint", ec.Name), attribute.String("exporter", set.ID.String()))
		e.endpoints = append(e.endpoints, &endpoint{cfg: ec, exp: e, set: set, attrs: metric.WithAttributeSet(set)})
	}
	return e, nil
}

// start connects to every endpoint at once, without hysteresis (there is
// no flapping to guard against yet); those that cannot be reached are
// probed in the background.
func (e *cfjs1Exporter) start(ctx context.Context, _ component.Host) error {
	e.ctx, e.cancel = context.WithCancel(context.Background())
	err := e.tel.RegisterLogxCfjs1ExporterDegradedSecondsCallback(func(_ context.Context, o metric.Float64Observer) error {
		for _, ep := range e.endpoints {
			o.Observe(ep.degradedTime().Seconds(), ep.attrs)
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.unregister = func() error { e.tel.Shutdown(); return nil }
	for _, ep := range e.endpoints {
		if ep.cfg.TLS.HasValue() {
			tc, err := ep.cfg.TLS.Get().LoadTLSConfig(ctx)
			if err != nil {
				return fmt.Errorf("endpoint %s: tls: %w", ep.cfg.Name, err)
			}
			if tc.ServerName == "" {
				// Verify the certificate against the host we dial, as
				// crypto/tls does only when it dials itself.
				tc.ServerName, _, _ = net.SplitHostPort(ep.cfg.Endpoint)
			}
			ep.tlsCfg = tc
		}
	}
	var wg sync.WaitGroup
	for _, ep := range e.endpoints {
		wg.Add(1)
		go func() { //nolint:gosec // G118: Start's ctx ends with Start; the dial uses the exporter's own e.ctx
			defer wg.Done()
			p, err := dialPeer(e.ctx, e.cfg, ep.cfg, ep.tlsCfg)
			if err != nil {
				e.set.Logger.Warn("cfjs1 endpoint not reachable at start; probing", zap.String("endpoint", ep.cfg.Name), zap.Error(err))
				ep.mu.Lock()
				ep.downSince = time.Now()
				ep.mu.Unlock()
				e.tel.LogxCfjs1ExporterUp.Record(context.Background(), 0, ep.attrs)
				ep.startProbe()
				return
			}
			ep.setUp(p, false)
		}()
	}
	wg.Wait()
	return nil
}

func (e *cfjs1Exporter) shutdown(context.Context) error {
	if e.cancel == nil {
		return nil
	}
	close(e.stop)
	e.cancel()
	if e.unregister != nil {
		_ = e.unregister()
	}
	for _, ep := range e.endpoints {
		ep.close()
	}
	e.wg.Wait()
	return nil
}

// encode appends the lines of ld to buf and returns how many it appended
// and how many records it left out as longer than the receiver takes.
func (e *cfjs1Exporter) encode(buf []byte, ld plog.Logs) (out []byte, lines, tooLong int) {
	attr, def := e.cfg.FormatAttribute, e.cfg.DefaultFormat
	for _, rl := range ld.ResourceLogs().All() {
		res := rl.Resource()
		for _, sl := range rl.ScopeLogs().All() {
			scope := sl.Scope()
			for _, rec := range sl.LogRecords().All() {
				format := def
				if v, ok := rec.Attributes().Get(attr); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
					format = v.Str()
				}
				start := len(buf)
				buf = cfjs1.AppendLine(buf, format, e.wrappers.Name(format), res, scope, rec, "")
				if len(buf)-start-1 > e.lineLimit {
					// The receiver would drop it; sending it would only
					// cost both sides the bytes.
					buf = buf[:start]
					tooLong++
					continue
				}
				lines++
			}
		}
	}
	return buf, lines, tooLong
}

// deadLetter appends the dead-letter copies, marked for name, of lines.
func deadLetter(dst, lines []byte, name string) []byte {
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		if i < 0 {
			i = len(lines) - 1
		}
		dst = cfjs1.AppendDeadLetter(dst, lines[:i+1], name)
		lines = lines[i+1:]
	}
	return dst
}

func (e *cfjs1Exporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	n := ld.LogRecordCount()
	if n == 0 {
		return nil
	}
	bp := e.bufs.get()
	defer e.bufs.put(bp)
	lines, n, tooLong := e.encode((*bp)[:0], ld)
	*bp = lines
	if tooLong > 0 {
		e.tel.LogxCfjs1ExporterDropped.Add(context.Background(), int64(tooLong), reasonLineTooLong)
		e.set.Logger.Debug("cfjs1 records longer than max_line_size dropped", zap.Int("records", tooLong), zap.Int("max_line_size", e.cfg.MaxLineSize))
	}
	if n == 0 {
		return nil
	}
	if e.cfg.Mode == ModeFailover {
		return e.sendFailover(ctx, lines, n)
	}
	return e.sendAll(ctx, lines, n)
}

func (e *cfjs1Exporter) sendFailover(ctx context.Context, lines []byte, n int) error {
	var errs []error
	for _, ep := range e.endpoints {
		err := ep.send(ctx, lines, n)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", ep.cfg.Name, err))
	}
	return fmt.Errorf("no cfjs1 endpoint took the records: %w", errors.Join(errs...))
}

// sendAll sends to every endpoint in parallel; the records of each one
// that failed go, marked for it, to the first other endpoint that takes
// them. Only when some copy found no taker is the batch retried (the
// endpoints that took it then get duplicates: at-least-once).
func (e *cfjs1Exporter) sendAll(ctx context.Context, lines []byte, n int) error {
	errs := make([]error, len(e.endpoints))
	if len(e.endpoints) == 1 {
		errs[0] = e.endpoints[0].send(ctx, lines, n)
	} else {
		var wg sync.WaitGroup
		for i, ep := range e.endpoints {
			if !ep.isUp() {
				errs[i] = errDown
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = ep.send(ctx, lines, n)
			}()
		}
		wg.Wait()
	}
	var failed []error
	var dlp *[]byte
	for i, ep := range e.endpoints {
		if errs[i] == nil {
			continue
		}
		if dlp == nil {
			dlp = e.bufs.get()
			defer e.bufs.put(dlp)
		}
		dl := deadLetter((*dlp)[:0], lines, ep.cfg.Name)
		*dlp = dl
		if err := e.sendDeadLetter(ctx, ep, errs, dl, n); err != nil {
			failed = append(failed, fmt.Errorf("%s: %w; dead-letter copies: %w", ep.cfg.Name, errs[i], err))
		}
	}
	return errors.Join(failed...)
}

func (e *cfjs1Exporter) sendDeadLetter(ctx context.Context, meantFor *endpoint, errs []error, dl []byte, n int) error {
	var tried []error
	for i, ep := range e.endpoints {
		if ep == meantFor || errs[i] != nil {
			continue
		}
		err := ep.send(ctx, dl, n)
		if err == nil {
			e.tel.LogxCfjs1ExporterDeadLettered.Add(context.Background(), int64(n), meantFor.attrs,
				metric.WithAttributes(attribute.String("via", ep.cfg.Name)))
			return nil
		}
		errs[i] = err
		tried = append(tried, fmt.Errorf("via %s: %w", ep.cfg.Name, err))
	}
	if len(tried) == 0 {
		return errors.New("no other endpoint is up")
	}
	return errors.Join(tried...)
}

// deadLetterRoom is how many bytes a dead-letter mark may add to a line:
// none unless records can be sent as copies (mode all, several endpoints).
func (c *Config) deadLetterRoom() int {
	if c.Mode != ModeAll || len(c.Endpoints) < 2 {
		return 0
	}
	room := 0
	for _, ep := range c.Endpoints {
		room = max(room, len(deadLetterField)+len(jsonstr.Append(nil, ep.Name)))
	}
	return room
}

// deadLetterField is what AppendDeadLetter puts before the name.
const deadLetterField = `,"dead_letter_for":`
