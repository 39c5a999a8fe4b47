package configguard

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/confmap"
)

// WrapProvider makes a provider's failures reach the guard's converter
// instead of failing the resolve. A resolve that fails cannot be refused
// gracefully: the collector has already shut its pipelines down when it
// resolves on reload, and exits. So a file that cannot be read (or, for a
// file given by --config, does not hold a YAML map) yields an empty value and
// the error is handed to the converter, which refuses the whole
// configuration. Until a converter exists the provider behaves as the one it
// wraps.
func (g *Guard) WrapProvider(f confmap.ProviderFactory) confmap.ProviderFactory {
	return confmap.NewProviderFactory(func(set confmap.ProviderSettings) confmap.Provider {
		return &guardedProvider{guard: g, Provider: f.Create(set)}
	})
}

type guardedProvider struct {
	guard *Guard
	confmap.Provider
}

func (p *guardedProvider) Retrieve(ctx context.Context, uri string, watcher confmap.WatcherFunc) (*confmap.Retrieved, error) {
	ret, err := p.Provider.Retrieve(ctx, uri, watcher)
	if !p.guard.armed.Load() {
		return ret, err
	}
	top := p.guard.isConfigFile(uri)
	if err == nil && top {
		if _, asConfErr := ret.AsConf(); asConfErr != nil {
			err = fmt.Errorf("%s is not a YAML map of collector configuration: %w", uri, asConfErr)
		}
	}
	if err == nil {
		return ret, nil
	}
	p.guard.deferError(err)
	if top {
		return confmap.NewRetrieved(map[string]any{})
	}
	// A placeholder for a ${...} reference: the converter refuses the whole
	// configuration, so the value is never used.
	return confmap.NewRetrieved("")
}
