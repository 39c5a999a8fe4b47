package metadata

import (
	"context"
	"sort"
	"strings"
	"testing"

	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// The exporter's metric names, as OpenTelemetry names them (and the
// collector's Prometheus reader publishes them by default) -> as a Prometheus
// reader with unit and counter suffixes publishes them. Alert rules and
// dashboards use these names: a change of a metric's name, unit or kind in
// metadata.yaml that renames one fails here.
var wantNames = []string{
	"otelcol_logx_tenantbuffer_bad_position_files -> otelcol_logx_tenantbuffer_bad_position_files_total",
	"otelcol_logx_tenantbuffer_budget_bytes -> otelcol_logx_tenantbuffer_budget_bytes",
	"otelcol_logx_tenantbuffer_buffers -> otelcol_logx_tenantbuffer_buffers",
	"otelcol_logx_tenantbuffer_bytes -> otelcol_logx_tenantbuffer_bytes",
	"otelcol_logx_tenantbuffer_fair_share_bytes -> otelcol_logx_tenantbuffer_fair_share_bytes",
	"otelcol_logx_tenantbuffer_job_reloads_refused -> otelcol_logx_tenantbuffer_job_reloads_refused_total",
	"otelcol_logx_tenantbuffer_jobs -> otelcol_logx_tenantbuffer_jobs",
	"otelcol_logx_tenantbuffer_open_files -> otelcol_logx_tenantbuffer_open_files",
	"otelcol_logx_tenantbuffer_overflow_records -> otelcol_logx_tenantbuffer_overflow_records_total",
	"otelcol_logx_tenantbuffer_push_batches -> otelcol_logx_tenantbuffer_push_batches_total",
	"otelcol_logx_tenantbuffer_push_breaker_opens -> otelcol_logx_tenantbuffer_push_breaker_opens_total",
	"otelcol_logx_tenantbuffer_push_bytes -> otelcol_logx_tenantbuffer_push_bytes_total",
	"otelcol_logx_tenantbuffer_push_dead_letter_bytes -> otelcol_logx_tenantbuffer_push_dead_letter_bytes",
	"otelcol_logx_tenantbuffer_push_dead_letter_removed_bytes -> otelcol_logx_tenantbuffer_push_dead_letter_removed_bytes_total",
	"otelcol_logx_tenantbuffer_push_dead_letter_removed_records -> otelcol_logx_tenantbuffer_push_dead_letter_removed_records_total",
	"otelcol_logx_tenantbuffer_push_failures -> otelcol_logx_tenantbuffer_push_failures_total",
	"otelcol_logx_tenantbuffer_push_lag_age -> otelcol_logx_tenantbuffer_push_lag_age_seconds",
	"otelcol_logx_tenantbuffer_push_lag_bytes -> otelcol_logx_tenantbuffer_push_lag_bytes",
	"otelcol_logx_tenantbuffer_push_lag_records -> otelcol_logx_tenantbuffer_push_lag_records",
	"otelcol_logx_tenantbuffer_push_paced_seconds -> otelcol_logx_tenantbuffer_push_paced_seconds_total",
	"otelcol_logx_tenantbuffer_push_paced_waits -> otelcol_logx_tenantbuffer_push_paced_waits_total",
	"otelcol_logx_tenantbuffer_push_parked_records -> otelcol_logx_tenantbuffer_push_parked_records_total",
	"otelcol_logx_tenantbuffer_push_records -> otelcol_logx_tenantbuffer_push_records_total",
	"otelcol_logx_tenantbuffer_push_retry_after -> otelcol_logx_tenantbuffer_push_retry_after_total",
	"otelcol_logx_tenantbuffer_push_tenant_state -> otelcol_logx_tenantbuffer_push_tenant_state_ratio",
	"otelcol_logx_tenantbuffer_push_tenants -> otelcol_logx_tenantbuffer_push_tenants",
	"otelcol_logx_tenantbuffer_records_accepted -> otelcol_logx_tenantbuffer_records_accepted_total",
	"otelcol_logx_tenantbuffer_records_refused -> otelcol_logx_tenantbuffer_records_refused_total",
	"otelcol_logx_tenantbuffer_removed_bytes -> otelcol_logx_tenantbuffer_removed_bytes_total",
	"otelcol_logx_tenantbuffer_tenant_bytes -> otelcol_logx_tenantbuffer_tenant_bytes",
}

func TestPrometheusNames(t *testing.T) {
	// The collector's Prometheus reader publishes OpenTelemetry names as
	// they are by default (without_units, without_type_suffix); one that
	// turns them off gets unit and counter suffixes.
	plain, plainReader := newPrometheusRegistry(t, otelprom.WithTranslationStrategy(otlptranslator.NoTranslation))
	suffixed, suffixedReader := newPrometheusRegistry(t, otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(plainReader), sdkmetric.WithReader(suffixedReader))
	defer func() { require.NoError(t, mp.Shutdown(context.Background())) }()
	every := &everyInstrumentProvider{MeterProvider: mp}
	set := componenttest.NewNopTelemetrySettings()
	set.MeterProvider = every
	tb, err := NewTelemetryBuilder(set)
	require.NoError(t, err)
	defer tb.Shutdown()
	require.NoError(t, every.err)

	plainNames := familyNames(t, plain)
	suffixedNames := familyNames(t, suffixed)
	var got []string
	for _, name := range every.names {
		require.Contains(t, plainNames, name)
		// The family the suffixing exporter made of name: name itself or
		// name with its suffixes.
		var match []string
		for _, p := range suffixedNames {
			if p == name || strings.HasPrefix(p, name+"_") {
				match = append(match, p)
			}
		}
		got = append(got, name+" -> "+strings.Join(match, ","))
	}
	sort.Strings(got)
	require.Equal(t, wantNames, got)
	require.Len(t, plainNames, len(wantNames))
	require.Len(t, suffixedNames, len(wantNames))
}

func newPrometheusRegistry(t *testing.T, opts ...otelprom.Option) (*promclient.Registry, sdkmetric.Reader) {
	reg := promclient.NewRegistry()
	exp, err := otelprom.New(append(opts, otelprom.WithRegisterer(reg), otelprom.WithoutTargetInfo(), otelprom.WithoutScopeInfo())...)
	require.NoError(t, err)
	return reg, exp
}

func familyNames(t *testing.T, reg *promclient.Registry) []string {
	families, err := reg.Gather()
	require.NoError(t, err)
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	sort.Strings(names)
	return names
}

// everyInstrumentProvider hands out meters whose every instrument reports
// one value at the next collection, so that the Prometheus exporter
// publishes a family for it.
type everyInstrumentProvider struct {
	metric.MeterProvider
	names []string
	err   error
}

func (p *everyInstrumentProvider) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	return &everyInstrumentMeter{Meter: p.MeterProvider.Meter(name, opts...), p: p}
}

type everyInstrumentMeter struct {
	metric.Meter
	p *everyInstrumentProvider
}

func (m *everyInstrumentMeter) observe(name string, inst metric.Observable, f func(metric.Observer)) {
	m.p.names = append(m.p.names, name)
	if _, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error { f(o); return nil }, inst); err != nil {
		m.p.err = err
	}
}

func (m *everyInstrumentMeter) Int64Counter(name string, opts ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	c, err := m.Meter.Int64Counter(name, opts...)
	if err == nil {
		m.p.names = append(m.p.names, name)
		c.Add(context.Background(), 1)
	}
	return c, err
}

func (m *everyInstrumentMeter) Int64ObservableGauge(name string, opts ...metric.Int64ObservableGaugeOption) (metric.Int64ObservableGauge, error) {
	g, err := m.Meter.Int64ObservableGauge(name, opts...)
	if err == nil {
		m.observe(name, g, func(o metric.Observer) { o.ObserveInt64(g, 1) })
	}
	return g, err
}

func (m *everyInstrumentMeter) Float64ObservableGauge(name string, opts ...metric.Float64ObservableGaugeOption) (metric.Float64ObservableGauge, error) {
	g, err := m.Meter.Float64ObservableGauge(name, opts...)
	if err == nil {
		m.observe(name, g, func(o metric.Observer) { o.ObserveFloat64(g, 1) })
	}
	return g, err
}

func (m *everyInstrumentMeter) Int64ObservableCounter(name string, opts ...metric.Int64ObservableCounterOption) (metric.Int64ObservableCounter, error) {
	c, err := m.Meter.Int64ObservableCounter(name, opts...)
	if err == nil {
		m.observe(name, c, func(o metric.Observer) { o.ObserveInt64(c, 1) })
	}
	return c, err
}

func (m *everyInstrumentMeter) Float64ObservableCounter(name string, opts ...metric.Float64ObservableCounterOption) (metric.Float64ObservableCounter, error) {
	c, err := m.Meter.Float64ObservableCounter(name, opts...)
	if err == nil {
		m.observe(name, c, func(o metric.Observer) { o.ObserveFloat64(c, 1) })
	}
	return c, err
}
