package kafkatopicsexporter

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/otelcol-logx/otelcol-logx/exporter/kafkatopicsexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// storageHost offers one file_storage extension to the exporter.
type storageHost struct {
	ext map[component.ID]component.Component
}

func (h *storageHost) GetExtensions() map[component.ID]component.Component { return h.ext }

func startFileStorage(t *testing.T, dir string) (*storageHost, component.ID) {
	t.Helper()
	f := filestorage.NewFactory()
	cfg := f.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), nil))
	id := component.MustNewID("file_storage")
	return &storageHost{ext: map[component.ID]component.Component{id: ext}}, id
}

// With sending_queue.storage set, records accepted while Kafka is down are
// on disk: a restarted exporter (same directory) delivers them once Kafka
// is back.
func TestPersistentQueueSurvivesRestartDuringOutage(t *testing.T) {
	const total = 500
	c := newCluster(t, 2)
	o := newOutage(c)
	o.down.Store(true)
	dir := t.TempDir()

	mkCfg := func(id component.ID) *Config {
		cfg := testConfig(c)
		cfg.Producer.DeliveryTimeout = time.Second
		cfg.Timeout = 2 * time.Second
		q := exporterhelper.NewDefaultQueueConfig()
		q.StorageID = &id
		q.NumConsumers = 2
		cfg.QueueConfig = configoptional.Some(q)
		cfg.RetryConfig.Enabled = true
		cfg.RetryConfig.InitialInterval = 50 * time.Millisecond
		cfg.RetryConfig.MaxInterval = 200 * time.Millisecond
		cfg.RetryConfig.MaxElapsedTime = 0
		return cfg
	}
	run := func(host *storageHost, id component.ID, send bool) func() {
		set := exportertest.NewNopSettings(metadata.Type)
		set.ID = component.NewID(metadata.Type) // the queue's storage is named after it
		exp, err := NewFactory().CreateLogs(context.Background(), set, mkCfg(id))
		require.NoError(t, err)
		require.NoError(t, exp.Start(context.Background(), host))
		if send {
			for call := range total / 50 {
				recs := make([]rec, 50)
				for i := range recs {
					recs[i] = rec{host: "h", service: "s", format: "app", seq: call*50 + i + 1}
				}
				require.NoError(t, exp.ConsumeLogs(context.Background(), makeLogs(recs...)))
			}
		}
		return func() { require.NoError(t, exp.Shutdown(context.Background())) }
	}

	// First life: everything is accepted into the queue, nothing reaches
	// Kafka; the client really tried.
	host, id := startFileStorage(t, dir)
	stop := run(host, id, true)
	testutil.WaitFor(t, 10*time.Second, "the client to try the broker", func() bool { return o.refused.Load() > 0 })
	stop()
	for _, e := range host.ext {
		require.NoError(t, e.Shutdown(context.Background()))
	}

	// Second life, Kafka back: the queue on disk is sent.
	o.down.Store(false)
	host, id = startFileStorage(t, dir)
	stop = run(host, id, false)
	defer func() {
		stop()
		for _, e := range host.ext {
			require.NoError(t, e.Shutdown(context.Background()))
		}
	}()
	seen := map[int]bool{}
	read := 0
	consumeUntil(t, c, "logs-app", func(got []*kgo.Record) bool {
		for _, r := range got[read:] {
			seen[seqOf(t, r)] = true
		}
		read = len(got)
		return len(seen) == total
	})
}
