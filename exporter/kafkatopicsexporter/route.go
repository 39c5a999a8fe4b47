package kafkatopicsexporter

import (
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-logx/otelcol-logx/internal/attrtemplate"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// topicClass says which kind of topic a record went to (the class
// attribute of records_produced).
type topicClass uint8

const (
	classData topicClass = iota
	classDeadLetter
	classFallback
	numClasses
)

func (c topicClass) String() string {
	switch c {
	case classDeadLetter:
		return "dead_letter"
	case classFallback:
		return "fallback"
	default:
		return "data"
	}
}

// redirectReason says why a record went to the fallback topic (the reason
// attribute of records_redirected), or, with no fallback topic, why it was
// dropped.
type redirectReason uint8

const (
	redirectNone redirectReason = iota
	// redirectUnroutable: the data template had a missing placeholder or
	// rendered no valid topic name.
	redirectUnroutable
	// redirectNotAllowed: the topic is not in topics.allowed.
	redirectNotAllowed
	// redirectUnknownTopic: the topic does not exist on the cluster.
	redirectUnknownTopic
	// redirectPartitionFailing: produced to another partition of its topic
	// because its own has a backlog (partition_backlog.policy: redirect).
	redirectPartitionFailing
	numRedirectReasons
)

func (r redirectReason) String() string {
	switch r {
	case redirectUnroutable:
		return "unroutable"
	case redirectNotAllowed:
		return "not_allowed"
	case redirectUnknownTopic:
		return "unknown_topic"
	case redirectPartitionFailing:
		return "partition_failing"
	default:
		return "none"
	}
}

// router holds the templates, parsed once at creation.
type router struct {
	data       *attrtemplate.Template
	deadLetter *attrtemplate.Template
	fallback   string
	key        *attrtemplate.Template // nil: records have no key
	allowed    allowList
}

func newRouter(cfg *Config) (router, error) {
	var r router
	var err error
	if r.data, err = parseTemplate(cfg.Topics.Data, attrtemplate.EscapeTopic); err != nil {
		return r, fmt.Errorf("kafkatopics: topics.data: %w", err)
	}
	if r.deadLetter, err = parseTemplate(cfg.Topics.DeadLetter, attrtemplate.EscapeTopic); err != nil {
		return r, fmt.Errorf("kafkatopics: topics.dead_letter: %w", err)
	}
	if r.key, err = parseTemplate(cfg.Partition.Key, attrtemplate.EscapeNone); err != nil {
		return r, fmt.Errorf("kafkatopics: partition.key: %w", err)
	}
	r.fallback = cfg.Topics.Fallback
	r.allowed = newAllowList(cfg.Topics.Allowed)
	return r, nil
}

// deadLetterFor returns the endpoint a dead-letter copy was meant for, or ""
// for an ordinary record.
func deadLetterFor(attrs pcommon.Map) string {
	v, ok := attrs.Get(logattr.CFJS1DeadLetterFor)
	if !ok || v.Type() != pcommon.ValueTypeStr {
		return ""
	}
	return v.Str()
}

// topic renders the record's topic into dst (reset first) and says which
// class it is. A dead-letter copy always goes to the dead-letter topic; an
// ordinary record whose data template had a missing placeholder, or
// rendered no valid topic name, goes to the fallback topic.
func (r *router) topic(dst []byte, attrs, res pcommon.Map, isDeadLetter bool) ([]byte, topicClass) {
	dst = dst[:0]
	if isDeadLetter {
		dst, _ = r.deadLetter.Append(dst, attrs, res)
		if validTopic(dst) || r.fallback == "" {
			return dst, classDeadLetter
		}
		return append(dst[:0], r.fallback...), classFallback
	}
	dst, missing := r.data.Append(dst, attrs, res)
	if (missing > 0 || !validTopic(dst)) && r.fallback != "" {
		return append(dst[:0], r.fallback...), classFallback
	}
	return dst, classData
}

// check says whether a rendered data or dead-letter topic may be produced
// to: it must be allowed and, as far as the exporter knows, exist.
func (r *router) check(topic []byte, known *knownTopics) redirectReason {
	if !r.allowed.permits(topic) {
		return redirectNotAllowed
	}
	if !known.has(topic) {
		return redirectUnknownTopic
	}
	return redirectNone
}
