//go:build resilience

package resilience

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The Kafka role configs, run as shipped against the built collector with
// an in-process Kafka (kfake): tier 2 (cfjs1 in, Kafka out) and tier 3
// (Kafka consumer group in, tenant buffers and push jobs out), each with
// real inputs, its real outputs, and a failure.

// shippedConfig reads a config of configs/ as the package ships it.
func shippedConfig(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "configs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newKafka(t *testing.T, partitions int32, topics ...string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topics...),
		kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// failProduce makes every produce request fail (the connection is closed)
// until the returned function is called.
func failProduce(c *kfake.Cluster) (restore func()) {
	var down atomic.Bool
	down.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if !down.Load() {
			c.DropControl()
			return nil, nil, false
		}
		c.KeepControl()
		return nil, errors.New("kafka down"), true
	})
	return func() { down.Store(false) }
}

// kafkaRecord is what a test reads back from a topic.
type kafkaRecord struct {
	id        uint64
	key       string
	partition int32
}

// readTopic reads topic from the start until want records came or d passed.
func readTopic(t *testing.T, c *kfake.Cluster, topic string, want int, d time.Duration) []kafkaRecord {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out []kafkaRecord
	for len(out) < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			id, ok := lineID(r.Value)
			if !ok {
				t.Errorf("%s: a record without an id: %q", topic, r.Value)
				return
			}
			out = append(out, kafkaRecord{id: id, key: string(r.Key), partition: r.Partition})
		})
	}
	return out
}

// sendV2 sends ids as cfjs1 lines on one connection that says hello
// version 2, and waits until tier 2 acknowledged them all.
func sendV2(t *testing.T, addr string, ids []uint64, phase int) {
	t.Helper()
	lines := make([][]byte, len(ids))
	for i, id := range ids {
		lines[i] = cfjs1Line(id, phase)
	}
	sendV2Lines(t, addr, lines)
}

// sendV2Lines sends lines (each ending in a newline) the same way.
func sendV2Lines(t *testing.T, addr string, lines [][]byte) {
	t.Helper()
	v, err := dialV2Client(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer v.close()
	var buf []byte
	for i, line := range lines {
		buf = append(buf, line...)
		if len(buf) >= 64<<10 || i == len(lines)-1 {
			if err := v.write(buf, strings.Count(string(buf), "\n")); err != nil {
				t.Fatal(err)
			}
			buf = buf[:0]
		}
	}
	if err := v.waitAcked(uint64(len(lines)), 60*time.Second); err != nil {
		t.Fatalf("tier 2 acknowledged %d lines: %v", len(lines), err)
	}
	if r := v.rejected(); len(r) > 0 {
		t.Fatalf("tier 2 rejected lines: %v", r)
	}
}

// TestTier2ConfigToKafka runs tier2-log-a.yaml and tier2-log-b.yaml as
// shipped, each against a Kafka of its own: lines from an edge (cfjs1 v2),
// then Kafka down while more come (tier 2 takes them into its queue on
// disk), then Kafka back: every line in the data topic, one key per
// service, each key on one partition and in order; records of tenants with
// a push job also in the tenant topic.
func TestTier2ConfigToKafka(t *testing.T) {
	binary(t)
	for _, side := range [][2]string{{"log-a", "log-b"}, {"log-b", "log-a"}} {
		t.Run(side[0], func(t *testing.T) { testTier2ConfigToKafka(t, side[0], side[1]) })
	}
}

// testTier2ConfigToKafka runs configs/tier2-<side>.yaml, whose dead-letter
// topics are those of the other side.
func testTier2ConfigToKafka(t *testing.T, side, other string) {
	c := newKafka(t, 6, "logs-syslog", "logs-unrouted", "logs-dlq-"+other, "logs-tenants", "logs-tenants-dlq-"+other)
	addr := fmt.Sprintf("127.0.0.1:%d", testutil.FreeTCPPort(t))
	metricsPort := testutil.FreeTCPPort(t)
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	state := t.TempDir()
	startCollector(t, side, "", shippedConfig(t, "tier2-"+side+".yaml"),
		"LOGX_JOBS_FILE="+writeJobs(t, state, "t0", "t1"),
		"LOGX_KAFKA_BROKERS="+strings.Join(c.ListenAddrs(), ","),
		"LOGX_CFJS1_ENDPOINT="+addr,
		"LOGX_STATE_DIR="+state,
		fmt.Sprintf("LOGX_HEALTH_ENDPOINT=127.0.0.1:%d", testutil.FreeTCPPort(t)),
		fmt.Sprintf("LOGX_METRICS_PORT=%d", metricsPort),
	)
	testutil.WaitFor(t, 30*time.Second, "the cfjs1 receiver", func() bool {
		v, err := dialV2Client(addr)
		if err == nil {
			v.close()
		}
		return err == nil
	})

	n := scale(2000, 50000)
	ids := make([]uint64, 0, 2*n)
	for i := range 2 * n {
		ids = append(ids, uint64(1_000_000+i))
	}
	sendV2(t, addr, ids[:n], 1)

	// Kafka down: tier 2 still takes every line (its queue is on disk),
	// and produces them all once Kafka is back.
	restore := failProduce(c)
	sendV2(t, addr, ids[n:], 2)
	restore()

	recs := readTopic(t, c, "logs-syslog", 2*n, 90*time.Second)
	got := idSet{}
	for _, r := range recs {
		got[r.id]++
	}
	if missing, first := got.missing(ids); missing > 0 {
		m, _ := metrics(metricsURL, regexp.MustCompile(`^otelcol_(logx_kafkatopics|exporter)_`))
		t.Fatalf("%d of %d lines not in Kafka (first %v); exporter metrics %v", missing, len(ids), first, m)
	}
	// One host's service is one key, on one partition, in the order sent
	// (at-least-once repeats aside).
	keyPartition, last := map[string]int32{}, map[string]uint64{}
	outOfOrder := 0
	for _, r := range recs {
		if p, ok := keyPartition[r.key]; ok && p != r.partition {
			t.Errorf("key %q on partitions %d and %d", r.key, p, r.partition)
		}
		keyPartition[r.key] = r.partition
		if r.id < last[r.key] {
			outOfOrder++
		}
		last[r.key] = max(last[r.key], r.id)
	}
	t.Logf("%d lines, %d records in Kafka (%d repeats), %d keys, %d out of order", len(ids), len(recs), got.duplicates(), len(keyPartition), outOfOrder)
	if len(keyPartition) != 50 {
		t.Errorf("%d keys, want one per service (50)", len(keyPartition))
	}
	if outOfOrder > got.duplicates() {
		t.Errorf("%d records out of their service's order beyond the %d repeats", outOfOrder, got.duplicates())
	}

	// Tenant records: those of tenants with a push job also go to the
	// tenant topic, keyed by tenant, so each tenant in one partition (read
	// by one tenant-tier node); t2 has no job and must not.
	var lines [][]byte
	var admitted []uint64
	for i := range 300 {
		id := uint64(3_000_000 + i)
		lines = append(lines, append(tenantLine(id, fmt.Sprintf("t%d", id%3)), '\n'))
		if id%3 != 2 {
			admitted = append(admitted, id)
		}
	}
	sendV2Lines(t, addr, lines)
	tenantRecs := readTopic(t, c, "logs-tenants", len(admitted), 60*time.Second)
	inTopic := idSet{}
	tenantPartition := map[string]int32{}
	for _, r := range tenantRecs {
		inTopic[r.id]++
		if want := fmt.Sprintf("t%d", r.id%3); r.key != want || r.id%3 == 2 {
			t.Errorf("tenant topic: record %d keyed %q (tenant %s)", r.id, r.key, want)
		}
		if p, ok := tenantPartition[r.key]; ok && p != r.partition {
			t.Errorf("tenant topic: tenant %s in partitions %d and %d", r.key, p, r.partition)
		}
		tenantPartition[r.key] = r.partition
	}
	if missing, first := inTopic.missing(admitted); missing > 0 {
		t.Errorf("%d of %d admitted tenant records not in the tenant topic (first %v)", missing, len(admitted), first)
	}
	m, err := metrics(metricsURL, regexp.MustCompile(`^otelcol_logx_tenantfilter_records_dropped`))
	if err != nil {
		t.Fatal(err)
	}
	if n := hostileSumPrefix(m, "otelcol_logx_tenantfilter_records_dropped"); n < 100 {
		t.Errorf("tenantfilter dropped %v records, want at least the 100 of t2 (plus every record without a tenant)", n)
	}
}

// writeJobs writes a job document admitting tenants (file destinations
// under dir) and returns its path.
func writeJobs(t *testing.T, dir string, tenants ...string) string {
	t.Helper()
	doc := "jobs:\n"
	for _, tenant := range tenants {
		doc += fmt.Sprintf("  - name: %s\n    tenant: %s\n    destination: {type: file, path: %s, compression: none, format: cfjs1}\n    batch: {max_records: 500, max_interval: 1s}\n",
			tenant, tenant, filepath.Join(dir, "pushed"))
	}
	path := filepath.Join(dir, "jobs.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// tenantLine is a cfjs1 record of tenant, as tier 2 produces it.
func tenantLine(id uint64, tenant string) []byte {
	return fmt.Appendf(nil, `{"format":"syslog","syslog":{"message":"req=%016x GET /","attributes":{"logx.tenant":%q}}}`, id, tenant)
}

// produceTenants writes ids to topic, tenant by id%3: t0, t1, t2.
func produceTenants(t *testing.T, c *kfake.Cluster, topic string, ids []uint64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, 0, len(ids))
	for _, id := range ids {
		tenant := fmt.Sprintf("t%d", id%3)
		recs = append(recs, &kgo.Record{Key: []byte(tenant), Value: tenantLine(id, tenant)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// pushedIDs reads the ids in every file under dir.
func pushedIDs(t *testing.T, dir string) idSet {
	t.Helper()
	got := idSet{}
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, line := range strings.Split(string(b), "\n") {
			if id, ok := lineID([]byte(line)); ok {
				got[id]++
			}
		}
		return nil
	})
	return got
}

func TestTier3ConfigFromKafka(t *testing.T) {
	binary(t)
	c := newKafka(t, 6, "logs-tenants")
	root := t.TempDir()
	out := filepath.Join(root, "pushed")
	// t0 and t1 have jobs; t2 has none and must not be buffered.
	jobs := writeJobs(t, root, "t0", "t1")
	state := t.TempDir()
	metricsPort := testutil.FreeTCPPort(t)
	env := []string{
		"LOGX_KAFKA_BROKERS=" + strings.Join(c.ListenAddrs(), ","),
		"LOGX_STATE_DIR=" + state,
		"LOGX_JOBS_FILE=" + jobs,
		"LOGX_PUSH_FILE_ROOT=" + root,
		fmt.Sprintf("LOGX_HEALTH_ENDPOINT=127.0.0.1:%d", testutil.FreeTCPPort(t)),
		fmt.Sprintf("LOGX_METRICS_PORT=%d", metricsPort),
	}
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	config := shippedConfig(t, "tier3-tenants.yaml")
	col := startCollector(t, "tier3", "", config, env...)

	n := scale(3000, 60000)
	ids := make([]uint64, 0, 2*n)
	for i := range 2 * n {
		ids = append(ids, uint64(2_000_000+i))
	}
	var admitted []uint64
	for _, id := range ids {
		if id%3 != 2 {
			admitted = append(admitted, id)
		}
	}
	produceTenants(t, c, "logs-tenants", ids[:n])
	testutil.WaitFor(t, 60*time.Second, "some pushed records", func() bool { return len(pushedIDs(t, out)) > 0 })

	// The node dies (kill -9) and comes back on the same disk: what it had
	// committed to Kafka it had on disk, what it had not comes again.
	col.kill9()
	produceTenants(t, c, "logs-tenants", ids[n:])
	startCollector(t, "tier3-again", "", config, env...)

	var got idSet
	testutil.WaitFor(t, 120*time.Second, "every admitted tenant's record pushed", func() bool {
		got = pushedIDs(t, out)
		missing, _ := got.missing(admitted)
		return missing == 0
	}, func() string {
		missing, first := got.missing(admitted)
		m, _ := metrics(metricsURL, regexp.MustCompile(`^otelcol_logx_(tenantbuffer|kafkatopics)_`))
		return fmt.Sprintf("%d of %d missing (first %v); %v", missing, len(admitted), first, m)
	})
	for id := range got {
		if id%3 == 2 {
			t.Fatalf("record %d of tenant t2, which has no job, was pushed", id)
		}
	}
	m, err := metrics(metricsURL, regexp.MustCompile(`^otelcol_logx_(tenantbuffer_records_refused|kafkatopics_receiver_records)`))
	if err != nil {
		t.Fatal(err)
	}
	refused := hostileSumPrefix(m, "otelcol_logx_tenantbuffer_records_refused")
	t.Logf("%d records produced, %d admitted and pushed (%d pushed twice after the kill); after the restart %v read from Kafka, %v refused",
		len(ids), len(admitted), got.duplicates(), hostileSumPrefix(m, "otelcol_logx_kafkatopics_receiver_records"), refused)
	if refused == 0 {
		t.Error("tenant t2's records were not counted as refused")
	}
	// At least once: what comes again is what the killed node had not
	// committed, at most one poll (fetch.max_poll_records in the config).
	if got.duplicates() > 5000 {
		t.Errorf("%d records pushed twice: more than one poll of the killed node", got.duplicates())
	}
}
