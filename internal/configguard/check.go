package configguard

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"
)

// check reports why conf cannot run, or nil. It refuses what the collector
// would refuse (by a dry run of the collector's own unmarshal, validation and
// pipeline build against the distribution's factories) and, beyond that, a
// configuration that would run but do nothing: no pipeline, no receiver or
// no exporter is never what an operator meant to reload.
func check(ctx context.Context, conf *confmap.Conf, factories func() (otelcol.Factories, error)) error {
	if err := checkNotEmpty(conf); err != nil {
		return err
	}
	return dryRun(ctx, conf, factories)
}

func checkNotEmpty(conf *confmap.Conf) error {
	var errs []error
	if !nonEmptyMap(conf.Get("service::pipelines")) {
		errs = append(errs, errors.New("service::pipelines is empty: define at least one pipeline, e.g. `service: {pipelines: {logs: {receivers: [fifo], exporters: [logfile]}}}`"))
	}
	if !nonEmptyMap(conf.Get("receivers")) {
		errs = append(errs, errors.New("receivers is empty: define at least one receiver and use it in a pipeline"))
	}
	if !nonEmptyMap(conf.Get("exporters")) {
		errs = append(errs, errors.New("exporters is empty: define at least one exporter and use it in a pipeline"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("the configuration would run nothing: %w", errors.Join(errs...))
	}
	return nil
}

func nonEmptyMap(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) > 0
}

// dryRun runs the collector's own `validate` path on conf. The conf is
// handed over by a converter rather than as YAML text so that values keep
// the form the resolver gave them (a ${env:...} value that looks like a
// number still decodes into a string field), exactly as in the real start.
func dryRun(ctx context.Context, conf *confmap.Conf, factories func() (otelcol.Factories, error)) error {
	snapshot := confmap.New()
	if err := snapshot.Merge(conf); err != nil {
		return err
	}
	inject := confmap.NewConverterFactory(func(confmap.ConverterSettings) confmap.Converter {
		return injectConverter{conf: snapshot}
	})
	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo: component.NewDefaultBuildInfo(),
		Factories: factories,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:               []string{"yaml:{}"},
			ProviderFactories:  []confmap.ProviderFactory{yamlprovider.NewFactory()},
			ConverterFactories: []confmap.ConverterFactory{inject},
		}},
		SkipSettingGRPCLogger: true,
	})
	if err != nil {
		return err
	}
	return col.DryRun(ctx)
}

// injectConverter puts a prepared configuration into an empty resolve.
type injectConverter struct{ conf *confmap.Conf }

func (c injectConverter) Convert(_ context.Context, into *confmap.Conf) error {
	return into.Merge(c.conf)
}
