// Package guard makes a component's safeguards visible: which of them an
// operator switched off, and how close each cap is to its limit.
//
// A safeguard that exists but is not configured protects nobody, and nobody
// notices until the day it was needed. So every component reports each of
// its guards under one pair of metrics, whatever the guard is:
//
//	otelcol_logx_guard_disabled{component, guard}    1 when switched off
//	otelcol_logx_guard_utilization{component, guard} use / limit, 0..1+
//
// and two alert rules (a guard is off; a cap above 80%) cover them all.
package guard

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of the guard metrics.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/internal/guard"

// Metric names, for tests and alert rules.
const (
	MetricDisabled    = "otelcol_logx_guard_disabled"
	MetricUtilization = "otelcol_logx_guard_utilization"
)

// Guard is one safeguard of a component.
type Guard struct {
	// Name is the option that sets it, as an operator writes it
	// (e.g. "max_buffers", "limits.max_total_bytes").
	Name string
	// Disabled is true when the operator switched the guard off.
	Disabled bool
	// Limit is the cap; Use, when set, returns what is in use now. A
	// guard with both reports its utilization (Use/Limit) while enabled.
	Limit int64
	Use   func() int64
}

// Registration is the guards of one component, reported until Unregister.
type Registration struct {
	reg metric.Registration
}

// Register reports guards for the component id (its ID in the config,
// e.g. "tenantbuffer/a"). Call Unregister at shutdown.
func Register(set component.TelemetrySettings, id component.ID, guards ...Guard) (*Registration, error) {
	m := set.MeterProvider.Meter(ScopeName)
	disabled, err1 := m.Int64ObservableGauge(MetricDisabled,
		metric.WithDescription("1 when a safeguard is switched off (set to unlimited or off), else 0."),
		metric.WithUnit("1"))
	util, err2 := m.Float64ObservableGauge(MetricUtilization,
		metric.WithDescription("How full a capped safeguard is: what is in use divided by its limit."),
		metric.WithUnit("1"))
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	type observed struct {
		g    Guard
		opts metric.MeasurementOption
	}
	obs := make([]observed, len(guards))
	for i, g := range guards {
		obs[i] = observed{g, metric.WithAttributes(
			attribute.String("component", id.String()), attribute.String("guard", g.Name))}
	}
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, x := range obs {
			off := int64(0)
			if x.g.Disabled {
				off = 1
			}
			o.ObserveInt64(disabled, off, x.opts)
			if !x.g.Disabled && x.g.Limit > 0 && x.g.Use != nil {
				o.ObserveFloat64(util, float64(x.g.Use())/float64(x.g.Limit), x.opts)
			}
		}
		return nil
	}, disabled, util)
	if err != nil {
		return nil, err
	}
	return &Registration{reg: reg}, nil
}

// Unregister stops reporting; safe on a nil Registration.
func (r *Registration) Unregister() error {
	if r == nil || r.reg == nil {
		return nil
	}
	return r.reg.Unregister()
}
