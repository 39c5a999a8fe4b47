package journalreceiver

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
)

func TestJournalctlMissingKeepsRetrying(t *testing.T) {
	cfg := testConfig(t.TempDir(), t.TempDir())
	cfg.Reader = readerJournalctl
	cfg.JournalctlPath = filepath.Join(t.TempDir(), "no-such-journalctl")
	r := startReceiver(t, cfg, &recordingConsumer{}, nil)
	require.Eventually(t, func() bool {
		return r.counter("otelcol_logx_journal_journalctl_restarts", "exited") >= 2
	}, 10*time.Second, 10*time.Millisecond)
	r.stop()
}

func TestStartFailsOnMissingStorage(t *testing.T) {
	cfg := testConfig(t.TempDir(), "")
	id := component.MustNewID("file_storage")
	cfg.Storage = &id
	rcv, err := newJournalReceiver(receiverSettings(), cfg, &recordingConsumer{})
	require.NoError(t, err)
	err = rcv.Start(context.Background(), &storageHost{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no such extension")
	require.NoError(t, rcv.Shutdown(context.Background()))
}

// storageHost is a component.Host offering extensions.
type storageHost struct {
	ext map[component.ID]component.Component
}

func (h *storageHost) GetExtensions() map[component.ID]component.Component { return h.ext }
