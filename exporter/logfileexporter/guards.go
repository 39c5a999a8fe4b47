package logfileexporter

import "github.com/otelcol-logx/otelcol-logx/internal/guard"

// registerGuards reports the exporter's safeguards (internal/guard): how
// full the path and open-file caps and the byte budget are, and which
// of them an operator switched off.
func (e *logfileExporter) registerGuards() (*guard.Registration, error) {
	g := e.cfg.DiskGuard
	return guard.Register(e.set.TelemetrySettings, e.set.ID,
		guard.Guard{Name: "max_paths", Disabled: e.cfg.MaxPaths == 0,
			Limit: int64(e.cfg.MaxPaths), Use: e.locked(func() int64 { return int64(e.knownPaths()) })},
		guard.Guard{Name: "max_open_files",
			Limit: int64(e.cfg.MaxOpenFiles), Use: e.locked(func() int64 { return int64(len(e.files)) })},
		guard.Guard{Name: "disk_guard.max_total_bytes", Disabled: g.MaxTotalBytes == 0,
			Limit: g.MaxTotalBytes, Use: e.locked(func() int64 { return e.total })},
		// A floor, not a cap: only whether it is on is reported.
		guard.Guard{Name: "disk_guard.min_free_bytes", Disabled: g.MinFreeBytes == 0},
	)
}

// locked wraps f to run under the exporter's lock (the metrics reader
// calls it from its own goroutine).
func (e *logfileExporter) locked(f func() int64) func() int64 {
	return func() int64 {
		e.mu.Lock()
		defer e.mu.Unlock()
		return f()
	}
}
