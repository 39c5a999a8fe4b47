package kafkatopicsexporter

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

func testRouter(t testing.TB, data, deadLetter, fallback string) router {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Topics.Data, cfg.Topics.DeadLetter, cfg.Topics.Fallback = data, deadLetter, fallback
	require.NoError(t, cfg.Validate())
	r, err := newRouter(cfg)
	require.NoError(t, err)
	return r
}

func TestRouterTopic(t *testing.T) {
	r := testRouter(t, "logs-{cfjs1.format}", "dlq-{cfjs1.dead_letter_for}", "logs-unrouted")
	attrs := pcommon.NewMap()
	res := pcommon.NewMap()

	topic, class := r.topic(nil, attrs, res, false)
	assert.Equal(t, "logs-unrouted", string(topic), "no format")
	assert.Equal(t, classFallback, class)

	attrs.PutStr(logattr.CFJS1Format, "nginx")
	topic, class = r.topic(topic, attrs, res, false)
	assert.Equal(t, "logs-nginx", string(topic))
	assert.Equal(t, classData, class)

	attrs.PutStr(logattr.CFJS1Format, "ng/inx äö")
	topic, _ = r.topic(topic, attrs, res, false)
	assert.Equal(t, "logs-ng_inx_____", string(topic), "escaped byte by byte")

	attrs.PutStr(logattr.CFJS1DeadLetterFor, "log-b")
	topic, class = r.topic(topic, attrs, res, true)
	assert.Equal(t, "dlq-log-b", string(topic))
	assert.Equal(t, classDeadLetter, class)

	// A format so long that the name would exceed Kafka's limit.
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	attrs.PutStr(logattr.CFJS1Format, string(long))
	topic, class = r.topic(topic, attrs, res, false)
	assert.Equal(t, "logs-unrouted", string(topic))
	assert.Equal(t, classFallback, class)
}

func TestRouterNoFallbackUsesTemplateDefaults(t *testing.T) {
	r := testRouter(t, "logs-{cfjs1.format:-generic}", "logs-dead-letter", "")
	topic, class := r.topic(nil, pcommon.NewMap(), pcommon.NewMap(), false)
	assert.Equal(t, "logs-generic", string(topic))
	assert.Equal(t, classData, class)
}

// FuzzRouterTopic: whatever a sender puts in the attributes, the topic is a
// valid Kafka topic name (data or fallback), and routing never panics.
func FuzzRouterTopic(f *testing.F) {
	for _, s := range []string{"", "nginx", "..", ".", "a/b", "x\x00y", "ä", "{x}", "logs-unrouted"} {
		f.Add(s, s, false)
		f.Add(s, "log-b", true)
	}
	r := testRouter(f, "logs-{cfjs1.format}.{logx.service}", "dlq-{cfjs1.dead_letter_for}", "logs-unrouted")
	f.Fuzz(func(t *testing.T, format, other string, dl bool) {
		attrs := pcommon.NewMap()
		attrs.PutStr(logattr.CFJS1Format, format)
		attrs.PutStr(logattr.Service, other)
		attrs.PutStr(logattr.CFJS1DeadLetterFor, other)
		topic, class := r.topic(nil, attrs, pcommon.NewMap(), dl)
		if !validTopic(topic) {
			t.Fatalf("invalid topic %q (class %s) for format %q, other %q", topic, class, format, other)
		}
		if dl && class == classData {
			t.Fatalf("dead-letter copy routed as data")
		}
	})
}
