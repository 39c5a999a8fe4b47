package logxtelemetry

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/service/telemetry"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/internal/configguard"
)

// ScopeName is the instrumentation scope of the guard's metrics.
const ScopeName = "github.com/otelcol-logx/otelcol-logx/service/telemetry/logxtelemetry"

// NewFactory returns the telemetry factory of the distribution: the
// upstream one, reporting the process's configuration guard.
func NewFactory() telemetry.Factory {
	return newFactory(configguard.Default())
}

func newFactory(guard *configguard.Guard) telemetry.Factory {
	base := otelconftelemetry.NewFactory()
	return telemetry.NewFactory(base.CreateDefaultConfig,
		telemetry.WithCreateResource(base.CreateResource),
		telemetry.WithCreateTracerProvider(base.CreateTracerProvider),
		telemetry.WithCreateLogger(func(ctx context.Context, set telemetry.LoggerSettings, cfg component.Config) (*zap.Logger, component.ShutdownFunc, error) {
			logger, shutdown, err := base.CreateLogger(ctx, set, cfg)
			if err != nil {
				return nil, nil, err
			}
			return logger.WithOptions(zap.WrapCore(guard.WatchReady)), shutdown, nil
		}),
		telemetry.WithCreateMeterProvider(func(ctx context.Context, set telemetry.MeterSettings, cfg component.Config) (telemetry.MeterProvider, error) {
			mp, err := base.CreateMeterProvider(ctx, set, cfg)
			if err != nil {
				return nil, err
			}
			if err := registerGuardMetrics(mp.Meter(ScopeName), guard); err != nil {
				return nil, shutdownOnError(ctx, mp, err)
			}
			return mp, nil
		}),
	)
}

// registerGuardMetrics adds the guard's figures to one meter provider. They
// are observed rather than recorded: the guard outlives every service (and
// meter provider) that a reload replaces, so each new provider reads the
// process-wide counts instead of starting from zero.
func registerGuardMetrics(meter metric.Meter, guard *configguard.Guard) error {
	_, err := meter.Int64ObservableCounter("otelcol_logx_config_reload_failures",
		metric.WithDescription("Configurations refused since the process started (invalid, unreadable, or without pipeline, receiver or exporter); the previous configuration stayed in force"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(guard.Failures())
			return nil
		}))
	if err != nil {
		return err
	}
	_, err = meter.Int64ObservableGauge("otelcol_logx_config_last_reload_success",
		metric.WithDescription("1 when the configuration last read (at start or reload) is the one running, 0 when it was refused and an older one runs instead"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(guard.LastReloadSucceeded())
			return nil
		}))
	return err
}

func shutdownOnError(ctx context.Context, mp telemetry.MeterProvider, err error) error {
	if serr := mp.Shutdown(ctx); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}
