package journalreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/receiver/journalreceiver/internal/metadata"
)

// NewFactory returns the factory of the `journal` receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability))
}

// createDefaultConfig reads the system journal from its end; bounds keep a
// batch under 4 MiB and an entry under 1 MiB. Where the cursor goes has no
// safe default: Validate asks for storage or cursor_directory.
func createDefaultConfig() component.Config {
	return &Config{
		Reader:         readerDirect,
		JournalctlPath: "journalctl",
		StartAt:        "end",
		InvalidUTF8:    "replace",
		MaxEntryBytes:  1 << 20,
		Batch: BatchConfig{
			MaxEntries:    1000,
			MaxBytes:      4 << 20,
			FlushInterval: 200 * time.Millisecond,
		},
		Buffer:         ingest.DefaultBufferConfig(),
		RetryOnFailure: BackoffConfig{InitialInterval: 100 * time.Millisecond, MaxInterval: 5 * time.Second},
		Restart:        BackoffConfig{InitialInterval: time.Second, MaxInterval: 30 * time.Second},
	}
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newJournalReceiver(set, cfg.(*Config), next)
}
