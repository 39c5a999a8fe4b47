package kafkaconn

import (
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
)

// Logger sends franz-go's own logs (connection failures, retries, group
// changes) to the collector's logger, at warn and above: info is
// per-connection chatter.
type Logger struct{ L *zap.Logger }

// Level is the most detailed level franz-go should log at.
func (Logger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

// Log writes one franz-go message with its key/value pairs as fields.
func (k Logger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	fields := make([]zap.Field, 0, len(keyvals)/2)
	for i := 0; i+1 < len(keyvals); i += 2 {
		key, _ := keyvals[i].(string)
		fields = append(fields, zap.Any(key, keyvals[i+1]))
	}
	switch level {
	case kgo.LogLevelError:
		k.L.Error(msg, fields...)
	case kgo.LogLevelWarn:
		k.L.Warn(msg, fields...)
	case kgo.LogLevelInfo:
		k.L.Info(msg, fields...)
	default:
		k.L.Debug(msg, fields...)
	}
}
