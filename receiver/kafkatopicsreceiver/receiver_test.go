package kafkatopicsreceiver

import (
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-logx/otelcol-logx/internal/kafkaconn"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

func TestConsumesInOrderAndCommits(t *testing.T) {
	c := newCluster(t, 6)
	produce(t, c, 0, 1200, 40)
	var s seen
	h := startReceiver(t, testConfig(c, "g"), sink(&s, nil))
	require.Eventually(t, func() bool { return s.count() >= 1200 }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, h.r.Shutdown(t.Context()))

	recs := s.snapshot()
	distinct, repeats := distinctSeqs(recs)
	assert.Len(t, distinct, 1200)
	assert.Zero(t, repeats)
	// Each partition's records came in offset order, each key on one
	// partition, and the Kafka record's partition, offset and key are on
	// every log record.
	lastOffset, keyPartition := map[string]int64{}, map[string]string{}
	for _, r := range recs {
		if prev, ok := lastOffset[r.partition]; ok {
			assert.Greater(t, r.offset, prev, "partition %s out of order", r.partition)
		}
		lastOffset[r.partition] = r.offset
		assert.Equal(t, "k"+strconv.Itoa(int(r.seq%40)), r.key)
		if p, ok := keyPartition[r.key]; ok {
			assert.Equal(t, p, r.partition)
		}
		keyPartition[r.key] = r.partition
	}
	assert.Len(t, lastOffset, 6)
	assert.EqualValues(t, 1200, h.sum(t, "otelcol_logx_kafkatopics_receiver_records"))

	// The group committed what the pipeline took: a new member of the
	// same group gets only what was produced since.
	produce(t, c, 1200, 100, 40)
	var s2 seen
	startReceiver(t, testConfig(c, "g"), sink(&s2, nil))
	require.Eventually(t, func() bool { return s2.count() >= 100 }, 30*time.Second, 10*time.Millisecond)
	for _, r := range s2.snapshot() {
		assert.GreaterOrEqual(t, r.seq, int64(1200), "committed records came again")
	}
}

func TestRefusedBatchIsOfferedAgainNeverSkipped(t *testing.T) {
	c := newCluster(t, 1)
	produce(t, c, 0, 300, 1)
	var refusals atomic.Int64
	refuse := func() error {
		if refusals.Add(1) <= 5 {
			return errors.New("pipeline full")
		}
		return nil
	}
	var s seen
	h := startReceiver(t, testConfig(c, "g"), sink(&s, refuse))
	require.Eventually(t, func() bool { return s.count() >= 300 }, 30*time.Second, 10*time.Millisecond)
	recs := s.snapshot()
	require.Len(t, recs, 300)
	for i, r := range recs {
		assert.EqualValues(t, i, r.seq, "records in the partition's order, none skipped")
	}
	assert.EqualValues(t, 5, h.sum(t, "otelcol_logx_kafkatopics_receiver_refusals"))
}

func TestUndecodableRecordsAreDroppedAndCounted(t *testing.T) {
	c := newCluster(t, 1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic))
	require.NoError(t, err)
	defer cl.Close()
	require.NoError(t, cl.ProduceSync(t.Context(),
		&kgo.Record{Value: cfjs1Value(0)},
		&kgo.Record{Value: []byte(`{"format":"app","app":{"message":`)},
		&kgo.Record{Value: nil},
		&kgo.Record{Value: []byte(`{"x":1}`)},
		&kgo.Record{Value: cfjs1Value(1)},
	).FirstErr())
	var s seen
	h := startReceiver(t, testConfig(c, "g"), sink(&s, nil))
	require.Eventually(t, func() bool { return s.count() >= 2 }, 30*time.Second, 10*time.Millisecond)
	// fed = delivered + counted drops
	require.Eventually(t, func() bool {
		return h.sum(t, "otelcol_logx_kafkatopics_receiver_dropped") == 3
	}, 10*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, 1, h.sum(t, "otelcol_logx_kafkatopics_receiver_dropped", attribute.String("reason", "invalid_json")))
	assert.EqualValues(t, 1, h.sum(t, "otelcol_logx_kafkatopics_receiver_dropped", attribute.String("reason", "empty")))
	assert.EqualValues(t, 1, h.sum(t, "otelcol_logx_kafkatopics_receiver_dropped", attribute.String("reason", "not_a_record")))
	assert.EqualValues(t, 5, h.sum(t, "otelcol_logx_kafkatopics_receiver_records"))
}

func TestUnreachableBrokerCountedAndLogged(t *testing.T) {
	// Nothing listens at the seed broker's address: the receiver starts
	// (franz-go keeps trying, and the broker may come up later), and the
	// failure shows as counted connection errors and a warning naming the
	// address, not as silence.
	addr := testutil.FreeTCPAddr(t)
	cfg := createDefaultConfig().(*Config)
	cfg.Brokers = []string{addr}
	cfg.Topics = []string{testTopic}
	cfg.Group.ID = "g"
	core, logs := observer.New(zap.WarnLevel)
	var s seen
	h := startReceiverLogging(t, cfg, sink(&s, nil), zap.New(core))
	require.Eventually(t, func() bool {
		return h.sum(t, "otelcol_logx_kafkatopics_receiver_broker_errors", attribute.String("reason", "connect")) > 0 &&
			logs.FilterMessageSnippet("unable to open connection to broker").FilterField(zap.String("addr", addr)).Len() > 0
	}, 30*time.Second, 10*time.Millisecond, "connection failures counted and logged with the address")
	assert.Zero(t, s.count())
}

func TestTopicCreatedLaterIsTakenUp(t *testing.T) {
	// One of the topics does not exist yet (a mirrored topic before its
	// first record, say): the receiver reads the other meanwhile, and the
	// missing one once it is created.
	c := newCluster(t, 2)
	cfg := testConfig(c, "g")
	cfg.Topics = []string{testTopic, "later"}
	var s seen
	startReceiver(t, cfg, sink(&s, nil))
	produce(t, c, 0, 100, 10)
	require.Eventually(t, func() bool { return s.count() == 100 }, 30*time.Second, 10*time.Millisecond, "the existing topic is read")

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "later", 2, 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(t.Context(), cl)
	require.NoError(t, err)
	require.Zero(t, resp.Topics[0].ErrorCode)
	var recs []*kgo.Record
	for i := 100; i < 150; i++ {
		recs = append(recs, &kgo.Record{Topic: "later", Key: []byte("k" + strconv.Itoa(i%10)), Value: cfjs1Value(i)})
	}
	require.NoError(t, cl.ProduceSync(t.Context(), recs...).FirstErr())
	require.Eventually(t, func() bool { return s.count() == 150 }, 60*time.Second, 20*time.Millisecond, "the topic created later is read")
}

func TestLagPerPartition(t *testing.T) {
	// 1,000 records in one partition, polled 100 at a time into a pipeline
	// that takes the first batch and then refuses: the partition's lag is
	// what Kafka holds beyond the batch being offered, until the pipeline
	// takes the rest.
	c := newCluster(t, 1)
	produce(t, c, 0, 1000, 1)
	cfg := testConfig(c, "g")
	cfg.Fetch.MaxPollRecords = 100
	var calls atomic.Int64
	var open atomic.Bool
	refuse := func() error {
		if calls.Add(1) > 1 && !open.Load() {
			return errors.New("pipeline full")
		}
		return nil
	}
	var s seen
	h := startReceiver(t, cfg, sink(&s, refuse))
	lag := func() map[string]float64 {
		return testutil.GaugeByAttribute(t, h.tel, "otelcol_logx_kafkatopics_receiver_lag", "topic")
	}
	require.Eventually(t, func() bool {
		return h.sum(t, "otelcol_logx_kafkatopics_receiver_refusals") > 0
	}, 30*time.Second, 10*time.Millisecond)
	assert.Equal(t, map[string]float64{testTopic: 800}, lag(), "1,000 held, the second batch of 100 offered")
	assert.Equal(t, map[string]float64{"": 1}, testutil.GaugeByAttribute(t, h.tel, "otelcol_logx_kafkatopics_receiver_partitions", "partition"))
	open.Store(true)
	require.Eventually(t, func() bool { return s.count() == 1000 }, 30*time.Second, 10*time.Millisecond)
	assert.Equal(t, map[string]float64{testTopic: 0}, lag())
}

func TestOTLPEncodingsFromTopicsByRegex(t *testing.T) {
	// Values as the exporter writes them with encoding otlp_json or
	// otlp_proto (one OTLP logs message each), read from the topics a
	// regular expression matches; a value that is not OTLP is dropped and
	// counted.
	for _, tc := range []struct {
		enc Encoding
		m   plog.Marshaler
	}{
		{EncodingOTLPJSON, &plog.JSONMarshaler{}},
		{EncodingOTLPProto, &plog.ProtoMarshaler{}},
	} {
		t.Run(string(tc.enc), func(t *testing.T) {
			c := newCluster(t, 2)
			var recs []*kgo.Record
			for i := range 3 {
				ld := plog.NewLogs()
				ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Attributes().PutInt("seq", int64(i))
				v, err := tc.m.MarshalLogs(ld)
				require.NoError(t, err)
				recs = append(recs, &kgo.Record{Topic: testTopic, Key: []byte("k"), Value: v})
			}
			recs = append(recs, &kgo.Record{Topic: testTopic, Key: []byte("k"), Value: []byte("not otlp")})
			cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
			require.NoError(t, err)
			defer cl.Close()
			require.NoError(t, cl.ProduceSync(t.Context(), recs...).FirstErr())

			cfg := testConfig(c, "g")
			cfg.Encoding = tc.enc
			cfg.Topics, cfg.TopicsRegex = []string{"^l.gs$"}, true
			var s seen
			h := startReceiver(t, cfg, sink(&s, nil))
			require.Eventually(t, func() bool {
				return s.count() == 3 && h.sum(t, "otelcol_logx_kafkatopics_receiver_dropped") == 1
			}, 30*time.Second, 10*time.Millisecond)
			for i, r := range s.snapshot() {
				assert.EqualValues(t, i, r.seq, "one partition's order")
				assert.Equal(t, "k", r.key)
				assert.EqualValues(t, i, r.offset)
			}
			assert.EqualValues(t, 1, h.sum(t, "otelcol_logx_kafkatopics_receiver_dropped", attribute.String("reason", "otlp_decode_error")))
		})
	}
}

func TestSASLMechanismsInTheGroup(t *testing.T) {
	// Each mechanism authenticates the member's every connection, the
	// group coordinator's included; a wrong password gets no record and
	// shows as broker errors.
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			c := newCluster(t, 2, kfake.EnableSASL(), kfake.Superuser(mech, "logx", "s3cret"))
			var produced []*kgo.Record
			for i := range 20 {
				produced = append(produced, &kgo.Record{Topic: testTopic, Value: cfjs1Value(i)})
			}
			cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.SASL(scramOrPlain(mech, "logx", "s3cret")))
			require.NoError(t, err)
			defer cl.Close()
			require.NoError(t, cl.ProduceSync(t.Context(), produced...).FirstErr())

			bad := testConfig(c, "bad")
			bad.SASL = configoptional.Some(kafkaconn.SASLConfig{Mechanism: mech, Username: "logx", Password: configopaque.String("wrong")})
			var refused seen
			hb := startReceiver(t, bad, sink(&refused, nil))
			good := testConfig(c, "good")
			good.SASL = configoptional.Some(kafkaconn.SASLConfig{Mechanism: mech, Username: "logx", Password: configopaque.String("s3cret")})
			var s seen
			startReceiver(t, good, sink(&s, nil))
			require.Eventually(t, func() bool {
				return s.count() == 20 && hb.sum(t, "otelcol_logx_kafkatopics_receiver_broker_errors") > 0
			}, 30*time.Second, 10*time.Millisecond)
			assert.Zero(t, refused.count())
		})
	}
}

// scramOrPlain is the franz-go mechanism a test producer authenticates with.
func scramOrPlain(mech, user, pass string) sasl.Mechanism {
	switch mech {
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	default:
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	}
}
