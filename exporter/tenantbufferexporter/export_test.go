package tenantbufferexporter

import "github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"

// StoreOptions lets the external tests (which run a whole collector, and so
// cannot live in this package) open a store the way the exporter does.
func StoreOptions(c *Config) buffers.Options { return c.storeOptions() }
