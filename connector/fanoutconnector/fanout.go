package fanoutconnector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-logx/otelcol-logx/connector/fanoutconnector/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/guard"
)

// Drop reasons, the values of the reason attribute of dropped_records.
const (
	// reasonBacklogFull: evicted (oldest first) to keep the backlog within
	// its bounds, or a single batch larger than backlog.max_bytes.
	reasonBacklogFull = "backlog_full"
	// reasonRefused: the destination refused the batch with a permanent
	// error while another destination took it.
	reasonRefused = "refused"
	// reasonShutdown: still in the backlog when the drain time ran out, or
	// arrived for a backlog after shutdown began.
	reasonShutdown = "shutdown"
)

// errAllBehind is returned when no destination could be offered a batch
// because each has a backlog: nothing took it, so the caller keeps it.
var errAllBehind = errors.New("fanout: every destination has a backlog; offer the batch again later")

// fanout offers every batch to each destination pipeline and keeps, per
// destination, what that destination still has to get.
type fanout struct {
	id    component.ID
	cfg   *Config
	set   component.TelemetrySettings
	tel   *metadata.TelemetryBuilder
	dests []*destination

	// shared: more than one destination, so a destination that may
	// change the data gets a copy of its own.
	shared bool

	mu                sync.Mutex
	unobserve         func() error
	guards            *guard.Registration
	shutdownCompleted bool
}

// destination is one pipeline the connector feeds.
type destination struct {
	name    string
	next    consumer.Logs
	mutates bool
	// required: the destination must take a batch before the connector
	// does (Config.Required); it never has a backlog.
	required bool
	backlog  *backlog
	tel      *metadata.TelemetryBuilder
	attrs    metric.MeasurementOption
	// reasons holds one attribute set per drop reason, made once.
	reasons map[string]metric.MeasurementOption
}

func newFanout(set component.TelemetrySettings, id component.ID, cfg *Config, next map[pipeline.ID]consumer.Logs) (*fanout, error) {
	if len(next) == 0 {
		return nil, errors.New("fanout: no pipeline lists this connector among its receivers")
	}
	tel, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	f := &fanout{id: id, cfg: cfg, set: set, tel: tel, shared: len(next) > 1}
	for pid, c := range next {
		d := newDestination(id, pid.String(), c, cfg, tel)
		d.required = slices.Contains(cfg.Required, pid.String())
		f.dests = append(f.dests, d)
	}
	for _, name := range cfg.Required {
		if !slices.ContainsFunc(f.dests, func(d *destination) bool { return d.name == name }) {
			return nil, fmt.Errorf("fanout: required pipeline %q does not list this connector among its receivers", name)
		}
	}
	// A stable order, required destinations first: they decide whether
	// the connector takes a batch at all, before the others get it.
	slices.SortFunc(f.dests, func(a, b *destination) int {
		if a.required != b.required {
			if a.required {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return f, nil
}

func newDestination(id component.ID, name string, next consumer.Logs, cfg *Config, tel *metadata.TelemetryBuilder) *destination {
	base := []attribute.KeyValue{attribute.String("connector", id.String()), attribute.String("destination", name)}
	d := &destination{
		name:    name,
		next:    next,
		mutates: next.Capabilities().MutatesData,
		tel:     tel,
		attrs:   metric.WithAttributeSet(attribute.NewSet(base...)),
		reasons: map[string]metric.MeasurementOption{},
	}
	for _, r := range []string{reasonBacklogFull, reasonRefused, reasonShutdown} {
		d.reasons[r] = metric.WithAttributeSet(attribute.NewSet(append(slices.Clone(base), attribute.String("reason", r))...))
	}
	d.backlog = newBacklog(d, cfg.Backlog, cfg.Retry)
	return d
}

// Capabilities: the connector itself never changes the data; each
// destination that may gets a copy of its own.
func (*fanout) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// ConsumeLogs offers ld to every destination that has no backlog. If none
// takes it, it returns their errors (retryable if any was) and keeps
// nothing: the caller still holds the batch and may offer it again, to
// everyone. If at least one takes it, it returns nil: the destinations that
// refused it retryably, and those that have a backlog, get it in their
// backlog; a permanent refusal is counted as dropped for that destination.
// A required destination (Config.Required) is offered the batch first, and
// its refusal is returned as it is: the caller keeps the batch.
func (f *fanout) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	var retryable, permanent []error
	var later, refusedForGood []*destination
	accepted := false
	for _, d := range f.dests {
		if d.backlog.busy() {
			later = append(later, d) // behind its backlog, to keep its order
			continue
		}
		err := d.deliver(ctx, f.payload(d, ld))
		if err != nil && d.required {
			// Not taken by a destination that must take it: the caller
			// keeps the batch. The destinations after it have not been
			// offered it, so nobody gets it twice from this refusal.
			return err
		}
		switch {
		case err == nil:
			accepted = true
		case consumererror.IsPermanent(err):
			permanent = append(permanent, err)
			refusedForGood = append(refusedForGood, d)
		default:
			retryable = append(retryable, err)
			later = append(later, d)
		}
	}
	if !accepted {
		if len(retryable) > 0 {
			return errors.Join(retryable...)
		}
		if len(permanent) > 0 {
			return errors.Join(permanent...)
		}
		return errAllBehind
	}
	if len(later) == 0 && len(refusedForGood) == 0 {
		return nil
	}
	it := batch{logs: ld, records: ld.LogRecordCount()}
	for _, d := range refusedForGood {
		d.dropped(it.records, reasonRefused)
	}
	if len(later) > 0 {
		it.bytes = int64(sizer.LogsSize(ld))
		for _, d := range later {
			d.backlog.add(it)
		}
	}
	return nil
}

var sizer plog.ProtoMarshaler

// payload is what d gets of ld: ld itself, unless d may change the data
// while others (or a backlog) share it, or ld is read-only.
func (f *fanout) payload(d *destination, ld plog.Logs) plog.Logs {
	if d.mutates && (f.shared || ld.IsReadOnly()) {
		return cloneLogs(ld)
	}
	return ld
}

func cloneLogs(ld plog.Logs) plog.Logs {
	c := plog.NewLogs()
	ld.CopyTo(c)
	return c
}

// deliver hands ld to the destination's pipeline.
func (d *destination) deliver(ctx context.Context, ld plog.Logs) error {
	return d.next.ConsumeLogs(ctx, ld)
}

// deliverHeld hands a batch held in the backlog to the destination. The
// batch is kept for a retry (and may still be read by destinations that
// took it), so a destination that may change it gets a copy each time.
func (d *destination) deliverHeld(ctx context.Context, ld plog.Logs) error {
	if d.mutates {
		ld = cloneLogs(ld)
	}
	return d.next.ConsumeLogs(ctx, ld)
}

func (d *destination) dropped(records int, reason string) {
	if records > 0 {
		d.tel.LogxFanoutDroppedRecords.Add(context.Background(), int64(records), d.reasons[reason])
	}
}

func (d *destination) backlogged(records int) {
	d.tel.LogxFanoutBackloggedRecords.Add(context.Background(), int64(records), d.attrs)
}

func (d *destination) delivered(records int) {
	d.tel.LogxFanoutBacklogDeliveredRecords.Add(context.Background(), int64(records), d.attrs)
}

func (d *destination) retried() { d.tel.LogxFanoutRetries.Add(context.Background(), 1, d.attrs) }

// Start runs each destination's backlog and reports the backlog gauges and
// guards.
func (f *fanout) Start(context.Context, component.Host) error {
	unobserve, err := f.observeBacklogs()
	if err != nil {
		return err
	}
	guards, err := guard.Register(f.set, f.id,
		guard.Guard{Name: "backlog.max_bytes", Limit: f.cfg.Backlog.MaxBytes, Use: f.fullestBytes},
		guard.Guard{Name: "backlog.max_batches", Limit: int64(f.cfg.Backlog.MaxBatches), Use: f.fullestBatches})
	if err != nil {
		return errors.Join(err, unobserve())
	}
	f.mu.Lock()
	f.unobserve, f.guards = unobserve, guards
	f.mu.Unlock()
	for _, d := range f.dests {
		d.backlog.start()
	}
	return nil
}

// observeBacklogs reports what each destination's backlog holds on the
// backlog gauges, until the returned function unregisters the callbacks.
func (f *fanout) observeBacklogs() (func() error, error) {
	unobserve := func() error { f.tel.Shutdown(); return nil }
	err := errors.Join(
		f.tel.RegisterLogxFanoutBacklogBytesCallback(func(_ context.Context, o metric.Int64Observer) error {
			for _, d := range f.dests {
				bytes, _ := d.backlog.held()
				o.Observe(bytes, d.attrs)
			}
			return nil
		}),
		f.tel.RegisterLogxFanoutBacklogBatchesCallback(func(_ context.Context, o metric.Int64Observer) error {
			for _, d := range f.dests {
				_, batches := d.backlog.held()
				o.Observe(batches, d.attrs)
			}
			return nil
		}))
	if err != nil {
		return nil, errors.Join(err, unobserve())
	}
	return unobserve, nil
}

// fullestBytes and fullestBatches are what the fullest backlog holds: the
// guard is about the destination closest to losing data.
func (f *fanout) fullestBytes() int64 {
	var most int64
	for _, d := range f.dests {
		bytes, _ := d.backlog.held()
		most = max(most, bytes)
	}
	return most
}

func (f *fanout) fullestBatches() int64 {
	var most int64
	for _, d := range f.dests {
		_, batches := d.backlog.held()
		most = max(most, batches)
	}
	return most
}

// Shutdown drains every backlog at once until they are empty or
// drain_timeout (or ctx) ends; what is left is counted as dropped with
// reason shutdown. The downstream pipelines still run meanwhile: the
// collector stops a connector before the pipelines it feeds.
func (f *fanout) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	if f.shutdownCompleted {
		f.mu.Unlock()
		return nil
	}
	f.shutdownCompleted = true
	unobserve, guards := f.unobserve, f.guards
	f.mu.Unlock()

	dctx, cancel := context.WithTimeout(ctx, f.cfg.DrainTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, d := range f.dests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.backlog.shutdown(dctx.Done())
		}()
	}
	wg.Wait()
	var errs []error
	if unobserve != nil {
		errs = append(errs, unobserve())
	}
	errs = append(errs, guards.Unregister())
	return errors.Join(errs...)
}
