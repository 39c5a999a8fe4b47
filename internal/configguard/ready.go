package configguard

import (
	"go.uber.org/zap/zapcore"
)

// readyMessage is what the collector's service logs once every extension
// and pipeline of a configuration has started; it offers no other signal to
// code outside it. TestStartedMarksLastGood fails if the text changes.
const readyMessage = "Everything is ready. Begin running and processing data."

// WatchReady wraps a logger core of the collector's service so that the
// guard learns when the configuration it accepted has started.
func (g *Guard) WatchReady(core zapcore.Core) zapcore.Core {
	return &readyCore{Core: core, guard: g}
}

type readyCore struct {
	zapcore.Core
	guard *Guard
}

// Enabled keeps Info entries coming to Check even when the configured level
// hides them, so the signal does not depend on the log level.
func (c *readyCore) Enabled(l zapcore.Level) bool {
	return l == zapcore.InfoLevel || c.Core.Enabled(l)
}

func (c *readyCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Level == zapcore.InfoLevel && e.Message == readyMessage {
		c.guard.Started()
	}
	return c.Core.Check(e, ce)
}

func (c *readyCore) With(fields []zapcore.Field) zapcore.Core {
	return &readyCore{Core: c.Core.With(fields), guard: c.guard}
}
