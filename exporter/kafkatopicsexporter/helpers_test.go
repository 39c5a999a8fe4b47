package kafkatopicsexporter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/exporter/kafkatopicsexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// newCluster starts an in-process kfake cluster with the topics seeded.
func newCluster(t testing.TB, partitions int32, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(int(partitions))}, opts...)
	c, err := kfake.NewCluster(opts...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// testConfig is the default config pointed at c, synchronous (no queue, no
// retry) so that ConsumeLogs returns the exporter's own verdict.
func testConfig(c *kfake.Cluster) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Brokers = c.ListenAddrs()
	cfg.Producer.Linger = time.Millisecond
	cfg.Producer.DeliveryTimeout = 5 * time.Second
	cfg.Producer.AllowAutoTopicCreation = true
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	return cfg
}

type harness struct {
	exp exporter.Logs
	tel *componenttest.Telemetry
}

func startExporter(t testing.TB, cfg *Config) *harness {
	t.Helper()
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return &harness{exp: exp, tel: tel}
}

// counter sums an Int64 counter's points whose attributes include want.
func (h *harness) counter(name string, want map[string]string) int64 {
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var total int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		match := true
		for k, v := range want {
			got, ok := dp.Attributes.Value(attribute.Key(k))
			if !ok || got.AsString() != v {
				match = false
			}
		}
		if match {
			total += dp.Value
		}
	}
	return total
}

// rec describes one test record.
type rec struct {
	host, service, format, deadLetterFor string
	seq                                  int
	body                                 string
}

// makeLogs builds logs with one resource per host, in the order given.
func makeLogs(recs ...rec) plog.Logs {
	ld := plog.NewLogs()
	for _, r := range recs {
		rl := ld.ResourceLogs().AppendEmpty()
		if r.host != "" {
			rl.Resource().Attributes().PutStr(logattr.HostName, r.host)
		}
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		body := r.body
		if body == "" {
			body = "seq=" + strconv.Itoa(r.seq)
		}
		lr.Body().SetStr(body)
		lr.Attributes().PutInt("seq", int64(r.seq))
		if r.service != "" {
			lr.Attributes().PutStr(logattr.Service, r.service)
		}
		if r.format != "" {
			lr.Attributes().PutStr(logattr.CFJS1Format, r.format)
		}
		if r.deadLetterFor != "" {
			lr.Attributes().PutStr(logattr.CFJS1DeadLetterFor, r.deadLetterFor)
		}
	}
	return ld
}

// consume reads want records from topic (from the start), failing the test
// if they do not all arrive within the deadline.
func consume(t testing.TB, c *kfake.Cluster, topic string, want int) []*kgo.Record {
	t.Helper()
	return consumeUntil(t, c, topic, func(got []*kgo.Record) bool { return len(got) >= want })
}

// consumeUntil reads topic from the start until done says so, failing the
// test after 30 s.
func consumeUntil(t testing.TB, c *kfake.Cluster, topic string, done func([]*kgo.Record) bool) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for !done(out) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: got %d records, not all that were expected", topic, len(out))
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

// topicEnd returns the number of records in topic (sum of partition end
// offsets), to check that nothing else arrived.
func topicEnd(t testing.TB, c *kfake.Cluster, topic string, partitions int32, opts ...kgo.Opt) int64 {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, opts...)...)
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.Timestamp = -1 // latest
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return 0 // never created: nothing was produced to it
	}
	require.NoError(t, err)
	var total int64
	for _, tp := range resp.Topics {
		for _, p := range tp.Partitions {
			if p.ErrorCode == 0 {
				total += p.Offset
			}
		}
	}
	return total
}

func seqOf(t testing.TB, r *kgo.Record) int {
	t.Helper()
	var seq int
	// Both encodings carry the body "seq=N"; find it.
	idx := indexOf(r.Value, []byte("seq="))
	require.GreaterOrEqual(t, idx, 0, "no seq in %q", r.Value)
	_, err := fmt.Sscanf(string(r.Value[idx:]), "seq=%d", &seq)
	require.NoError(t, err)
	return seq
}

func indexOf(b, sub []byte) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	return -1
}
