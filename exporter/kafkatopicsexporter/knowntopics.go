package kafkatopicsexporter

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// Topic names come from record data. Producing to a topic that does not
// exist costs the whole export call the client's retries of it, and the
// client keeps every topic it was asked for in its metadata requests for
// good. So a record's topic is first checked against the allow-list and
// against the topics that exist, read from the brokers, and a record that
// fails either goes to the fallback topic without its own topic ever
// reaching the client.

// defaultMaxKnown is the default of topics.max_known: far more topics than
// a log cluster holds, and a few hundred kilobytes of names.
const defaultMaxKnown = 10_000

// retryUnloaded is how soon the topics are read again while they have
// never been read (brokers unreachable at start).
const retryUnloaded = 5 * time.Second

// fetchTimeout bounds one reading of the topics in the background;
// startFetchTimeout the one at start, which must not hold the collector's
// start-up long while brokers are down (the background retries soon).
const (
	fetchTimeout      = 5 * time.Second
	startFetchTimeout = 3 * time.Second
)

// allowList is topics.allowed, parsed.
type allowList struct {
	names    map[string]struct{}
	prefixes []string
	all      bool // empty list, or "*"
}

func newAllowList(entries []string) allowList {
	a := allowList{names: make(map[string]struct{}), all: len(entries) == 0}
	for _, e := range entries {
		if prefix, ok := strings.CutSuffix(e, "*"); ok {
			if prefix == "" {
				a.all = true
			}
			a.prefixes = append(a.prefixes, prefix)
			continue
		}
		a.names[e] = struct{}{}
	}
	return a
}

// permits reports whether topic may be produced to. Its cost grows with
// the configured prefixes only, not with the records or topics seen.
func (a *allowList) permits(topic []byte) bool {
	if a.all {
		return true
	}
	if _, ok := a.names[string(topic)]; ok {
		return true
	}
	for _, p := range a.prefixes {
		if len(topic) >= len(p) && string(topic[:len(p)]) == p {
			return true
		}
	}
	return false
}

// knownTopics is the set of topics that exist on the cluster, as last read
// from the brokers. It is replaced whole (readers never lock) and holds at
// most max names.
type knownTopics struct {
	set      atomic.Pointer[map[string]struct{}] // nil until first read
	disabled bool                                // auto-creation on: any topic may come to exist
	max      int
}

// has reports whether topic is known to exist. Before the first reading
// succeeded, or with auto-creation, every topic is taken to exist (the
// client's own answer is then the check, and a topic it finds missing is
// forgotten and purged as below).
func (k *knownTopics) has(topic []byte) bool {
	if k.disabled {
		return true
	}
	set := k.set.Load()
	if set == nil {
		return true
	}
	_, ok := (*set)[string(topic)]
	return ok
}

// loaded reports whether the topics have been read at least once.
func (k *knownTopics) loaded() bool { return k.set.Load() != nil }

// count is the number of topics known (how full topics.max_known is).
func (k *knownTopics) count() int64 {
	if m := k.set.Load(); m != nil {
		return int64(len(*m))
	}
	return 0
}

// forget removes topics the brokers said do not exist (deleted since the
// last reading), until a later reading finds them again.
func (k *knownTopics) forget(topics []string) {
	for {
		old := k.set.Load()
		if old == nil {
			return
		}
		next := make(map[string]struct{}, len(*old))
		for t := range *old {
			next[t] = struct{}{}
		}
		for _, t := range topics {
			delete(next, t)
		}
		if k.set.CompareAndSwap(old, &next) {
			return
		}
	}
}

// refresh reads the names of every topic of the cluster and replaces the
// set with those the allow-list permits, at most max of them. It returns
// how many were left out for the bound.
func (k *knownTopics) refresh(ctx context.Context, cl *kgo.Client, allowed *allowList) (left int, err error) {
	req := kmsg.NewPtrMetadataRequest() // no topics: all of them
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, err
	}
	set := make(map[string]struct{}, min(len(resp.Topics), k.max))
	for _, t := range resp.Topics {
		if t.Topic == nil || t.ErrorCode != 0 || !allowed.permits([]byte(*t.Topic)) {
			continue
		}
		if len(set) == k.max {
			left++
			continue
		}
		set[*t.Topic] = struct{}{}
	}
	k.set.Store(&set)
	return left, nil
}

// watchTopics reads the topics every refresh interval (sooner while they
// were never read) until ctx ends, then closes done.
func (e *kafkaExporter) watchTopics(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	for {
		wait := e.cfg.Topics.RefreshInterval
		if !e.known.loaded() {
			wait = min(wait, retryUnloaded)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		e.refreshTopics(ctx, fetchTimeout)
	}
}

// refreshTopics reads the topics once, logging what went wrong (but not
// that the exporter is shutting down).
func (e *kafkaExporter) refreshTopics(parent context.Context, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	left, err := e.known.refresh(ctx, e.client, &e.router.allowed)
	switch {
	case err != nil && parent.Err() == nil:
		e.logger.Warn("kafkatopics: cannot read the cluster's topics; keeping the last known set",
			zap.Bool("ever_read", e.known.loaded()), zap.Error(err))
	case left > 0:
		e.logger.Warn("kafkatopics: the cluster has more topics than topics.max_known; records for the rest go to the fallback topic",
			zap.Int("max_known", e.known.max), zap.Int("left_out", left))
	}
}

// forgetMissing is called with the topics the brokers answered
// UNKNOWN_TOPIC_OR_PARTITION for: they are dropped from the known set and
// from the client, whose metadata requests would otherwise name them for
// good.
func (e *kafkaExporter) forgetMissing(topics []string) {
	if len(topics) == 0 {
		return
	}
	e.known.forget(topics)
	e.client.PurgeTopicsFromClient(topics...)
	e.logger.Warn("kafkatopics: topics do not exist; their records go to the fallback topic until they are found again",
		zap.Strings("topics", topics), zap.String("fallback", e.router.fallback))
}

// isUnknownTopic says whether a produce error means the topic is missing.
func isUnknownTopic(err error) bool {
	return errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, kerr.UnknownTopicID)
}
