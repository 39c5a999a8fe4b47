package kafkatopicsreceiver

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/receiver/kafkatopicsreceiver/internal/metadata"
)

const testTopic = "logs"

// newCluster starts an in-process Kafka (kfake) with testTopic seeded.
func newCluster(t testing.TB, partitions int32, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, testTopic),
		kfake.GroupMinSessionTimeout(time.Second)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// testConfig is the default config pointed at c, with a group that notices
// a member gone within seconds.
func testConfig(c *kfake.Cluster, group string) *Config {
	return testConfigFor(c.ListenAddrs(), group)
}

// testConfigFor is testConfig for a cluster known by its addresses (a
// member in another process).
func testConfigFor(brokers []string, group string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Brokers = brokers
	cfg.Topics = []string{testTopic}
	cfg.Group.ID = group
	cfg.Group.SessionTimeout = 6 * time.Second
	cfg.Group.RebalanceTimeout = 10 * time.Second
	cfg.Group.HeartbeatInterval = 500 * time.Millisecond
	cfg.Retry.InitialBackoff = 10 * time.Millisecond
	cfg.Retry.MaxBackoff = 100 * time.Millisecond
	return cfg
}

// cfjs1Value is a cfjs1 line as the exporter writes it into a record.
func cfjs1Value(seq int) []byte {
	return fmt.Appendf(nil, `{"format":"app","app":{"message":"m-%d","attributes":{"seq":%d},"resource":{"host.name":"h1"}}}`, seq, seq)
}

// produce writes n records with values cfjs1Value(first..first+n-1), keyed
// by seq%keys, and waits until Kafka has them all.
func produce(t testing.TB, c *kfake.Cluster, first, n, keys int) {
	t.Helper()
	require.NoError(t, produceErr(c, first, n, keys))
}

func produceErr(c *kfake.Cluster, first, n, keys int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic), kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	recs := make([]*kgo.Record, 0, n)
	for i := first; i < first+n; i++ {
		recs = append(recs, &kgo.Record{Key: []byte("k" + strconv.Itoa(i%keys)), Value: cfjs1Value(i)})
	}
	return cl.ProduceSync(context.Background(), recs...).FirstErr()
}

// harness is a started receiver whose telemetry the test reads.
type harness struct {
	r   *kafkaReceiver
	tel *componenttest.Telemetry
}

func startReceiver(t testing.TB, cfg *Config, next consumer.Logs) *harness {
	t.Helper()
	return startReceiverLogging(t, cfg, next, zap.NewNop())
}

// startReceiverLogging is startReceiver with the receiver's logs (franz-go's
// included) going to logger.
func startReceiverLogging(t testing.TB, cfg *Config, next consumer.Logs, logger *zap.Logger) *harness {
	t.Helper()
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.Logger = logger
	r, err := newReceiver(set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	h := &harness{r: r, tel: tel}
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return h
}

// assigned is the number of partitions the member has now.
func (h *harness) assigned() int {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	return len(h.r.lag)
}

// sum adds the points of an Int64 sum whose attributes include want.
func (h *harness) sum(t testing.TB, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	return testutil.SumInt64(t, h.tel, name, want...)
}

// seen is what reached the pipeline: per record its seq, partition and
// offset, in the order the pipeline got them.
type seen struct {
	mu   sync.Mutex
	recs []seenRecord
}

type seenRecord struct {
	seq, offset int64
	partition   string
	key         string
}

func (s *seen) add(ld plog.Logs) {
	s.addRecords(recordsOf(ld))
}

func (s *seen) addRecords(recs []seenRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, recs...)
}

// recordsOf is what a test notes of each record of ld.
func recordsOf(ld plog.Logs) []seenRecord {
	var recs []seenRecord
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		sls := rls.At(i).ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				a := lrs.At(k).Attributes()
				seq, _ := a.Get("seq")
				off, _ := a.Get(AttrOffset)
				p, _ := a.Get(AttrPartition)
				key, _ := a.Get(AttrKey)
				recs = append(recs, seenRecord{seq: seq.Int(), offset: off.Int(), partition: p.Str(), key: key.Str()})
			}
		}
	}
	return recs
}

func (s *seen) snapshot() []seenRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRecord(nil), s.recs...)
}

func (s *seen) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// sink is a pipeline that records what it accepts into s, after refuse
// (when set) had its say.
func sink(s *seen, refuse func() error) consumer.Logs {
	c, _ := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
		if refuse != nil {
			if err := refuse(); err != nil {
				return err
			}
		}
		s.add(ld)
		return nil
	})
	return c
}

// distinctSeqs counts the distinct seqs in recs and the repeats.
func distinctSeqs(recs []seenRecord) (distinct map[int64]int, repeats int) {
	distinct = map[int64]int{}
	for _, r := range recs {
		distinct[r.seq]++
		if distinct[r.seq] > 1 {
			repeats++
		}
	}
	return distinct, repeats
}
