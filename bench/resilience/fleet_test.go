//go:build resilience

package resilience

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The fleet: the three tiers run together as separate collector processes
// (edge hosts, log-a and log-b with a Kafka cluster each, two tenant-tier
// nodes in one consumer group), with real sockets, real Kafka clients
// (kfake in process) and real push destinations on disk.

// fleetEdgeConfig is configs/edge.yaml's shape (unix socket receiver ->
// externaljson -> fanout -> cfjs1 to log-a AND log-b, plus the local
// file), written here because the shipped edge.yaml cannot run in this
// test as a tenant's host: its journal receiver needs the host's journal,
// and nothing in it sets logx.tenant (its only externaljson source maps the
// data-center status under the prefix dc.). The edge assigns a tenant per
// host, as the externaljson README shows: a source answering
// {"tenant": "..."} mapped to logx.tenant. The ratelimit processor and the
// FIFO are left out (they do not touch the tenant); the queue is not
// fsynced, to spare the shared test machine.
const fleetEdgeConfig = `
extensions:
  file_storage:
    directory: %[1]s/storage
    create_directory: true
receivers:
  unixsocket/syslog:
    path: %[1]s/syslog.sock
    transport: stream
    framing: auto
    format: auto
    peer:
      credentials: true
      systemd_unit: false
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 512
    spike_limit_mib: 128
  externaljson:
    startup_wait: 5s
    sources:
      - name: tenant
        http:
          endpoint: %[2]s
          timeout: 2s
        interval: 30s
        guard:
          required_paths: [tenant]
        mapping:
          target: record
          fields:
            - path: tenant
              key: logx.tenant
              on_conflict: insert
          allow_reserved: [logx.tenant]
connectors:
  fanout:
exporters:
  cfjs1:
    mode: all
    endpoints:
      - name: log-a
        endpoint: %[3]s
      - name: log-b
        endpoint: %[4]s
    sending_queue:
      storage: file_storage
      num_consumers: 1
  logfile/local:
    path: %[1]s/logs/all.log
    format: syslog
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[5]d
  pipelines:
    logs:
      receivers: [unixsocket/syslog]
      processors: [memory_limiter, externaljson]
      exporters: [fanout]
    logs/tier2:
      receivers: [fanout]
      exporters: [cfjs1]
    logs/local:
      receivers: [fanout]
      exporters: [logfile/local]
`

// fleetNode is one collector of the fleet, with what it takes to start it
// again on the same state.
type fleetNode struct {
	name, config string
	env          []string
	metricsURL   string
	col          *collector
	starts       int
}

// newFleetNode prepares a node on a shipped config (or the given one) with
// its own state directory, health and metrics ports, and env.
func newFleetNode(t *testing.T, name, config string, env ...string) *fleetNode {
	t.Helper()
	port := testutil.FreeTCPPort(t)
	n := &fleetNode{name: name, config: config, metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", port)}
	n.env = append([]string{
		"LOGX_STATE_DIR=" + t.TempDir(),
		fmt.Sprintf("LOGX_HEALTH_ENDPOINT=127.0.0.1:%d", testutil.FreeTCPPort(t)),
		fmt.Sprintf("LOGX_METRICS_PORT=%d", port),
		"LOGX_NODE_NAME=" + name,
	}, env...)
	return n
}

func (n *fleetNode) start(t *testing.T) {
	t.Helper()
	n.starts++
	n.col = startCollector(t, fmt.Sprintf("%s-%d", n.name, n.starts), "", n.config, n.env...)
}

// metric is the sum of the node's series named name (a _total suffix
// aside) whose labels contain every one of labels (e.g. `reason="blank"`);
// -1 when the node does not answer.
func (n *fleetNode) metric(name string, labels ...string) float64 {
	s, err := fleetSeries(n.metricsURL)
	if err != nil {
		return -1
	}
	return fleetSum(s, name, labels...)
}

// fleetSeries scrapes url and returns every sample by name and label text.
func fleetSeries(url string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || !strings.HasPrefix(line, "otelcol_logx_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] += v
		}
	}
	return out, sc.Err()
}

// fleetSum sums the series of name (with or without _total) whose labels
// contain all of labels.
func fleetSum(s map[string]float64, name string, labels ...string) float64 {
	var sum float64
	for key, v := range s {
		n, lbl, _ := strings.Cut(key, "{")
		if trimTotal(n) != name {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(lbl, l)
		}
		if ok {
			sum += v
		}
	}
	return sum
}

// fleetTopicSize is the number of records in topic (the sum of its
// partitions' high watermarks).
func fleetTopicSize(t *testing.T, c *kfake.Cluster, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p := range int32(6) {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = p, -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("list offsets of %s: %v", topic, err)
	}
	var n int64
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if rp.ErrorCode != 0 {
				t.Fatalf("list offsets of %s[%d]: error code %d", topic, rp.Partition, rp.ErrorCode)
			}
			n += rp.Offset
		}
	}
	return n
}

// fleetTopicKeys reads the whole topic (size records) and counts records
// by key.
func fleetTopicKeys(t *testing.T, c *kfake.Cluster, topic string) (map[string]int, int) {
	t.Helper()
	size := int(fleetTopicSize(t, c, topic))
	keys := map[string]int{}
	recs := readTopic(t, c, topic, size, 60*time.Second)
	for _, r := range recs {
		keys[r.key]++
	}
	return keys, len(recs)
}

// fleetTenants are the tenants of the lines sent straight to tier 2, as
// other edge hosts would: id = fleetV2Base + i, tenant f<i%12>; f00..f07
// have a job, f08..f11 none.
const (
	fleetV2Base      = uint64(3) << 40
	fleetV2Tenants   = 12
	fleetV2Admitted  = 8
	fleetEdgeInBase  = uint64(1) << 40 // the edge host of tenant e-in (a job)
	fleetEdgeOutBase = uint64(2) << 40 // the edge host of tenant e-out (none)
)

// fleetTenantOf names the tenant of a line of TestFleetChain.
func fleetTenantOf(id uint64) string {
	switch {
	case id >= fleetV2Base:
		return fmt.Sprintf("f%02d", (id-fleetV2Base)%fleetV2Tenants)
	case id >= fleetEdgeOutBase:
		return "e-out"
	default:
		return "e-in"
	}
}

func fleetAdmitted(tenant string) bool {
	if tenant == "e-in" {
		return true
	}
	var i int
	_, err := fmt.Sscanf(tenant, "f%02d", &i)
	return err == nil && i < fleetV2Admitted
}

// fleetPushedByTenant reads every pushed file under dir/<tenant>/ and
// returns the ids by the directory (tenant) they were found in.
func fleetPushedByTenant(t *testing.T, dir string) map[string]idSet {
	t.Helper()
	out := map[string]idSet{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			out[e.Name()] = pushedIDs(t, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// fleetSendV2 sends the ids as tenant lines to both tier-2 sides, as an
// edge's cfjs1 exporter in mode all does, and waits for both acks.
func fleetSendV2(t *testing.T, ids []uint64, tenantOf func(uint64) string, addrs ...string) {
	t.Helper()
	lines := make([][]byte, len(ids))
	for i, id := range ids {
		lines[i] = append(tenantLine(id, tenantOf(id)), '\n')
	}
	for _, addr := range addrs {
		sendV2Lines(t, addr, lines)
	}
}

// fleetTier2 starts a tier-2 side on its shipped config, producing to c,
// and waits until its cfjs1 receiver answers.
func fleetTier2(t *testing.T, side string, c *kfake.Cluster, jobs string) (*fleetNode, string) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testutil.FreeTCPPort(t))
	n := newFleetNode(t, side, shippedConfig(t, "tier2-"+side+".yaml"),
		"LOGX_KAFKA_BROKERS="+strings.Join(c.ListenAddrs(), ","),
		"LOGX_CFJS1_ENDPOINT="+addr,
		"LOGX_JOBS_FILE="+jobs,
		"LOGX_JOBS_RELOAD_INTERVAL=1s",
	)
	n.start(t)
	var err error
	testutil.WaitFor(t, 60*time.Second, side+"'s cfjs1 receiver", func() bool {
		var v *v2Client
		if v, err = dialV2Client(addr); err == nil {
			v.close()
		}
		return err == nil
	}, func() string { return fmt.Sprintf("(running %v, dial: %v)", n.col.running(), err) })
	return n, addr
}

// fleetTier3 prepares a tenant-tier node on the shipped config, reading c.
func fleetTier3(t *testing.T, name string, c *kfake.Cluster, jobs, root string) *fleetNode {
	t.Helper()
	return newFleetNode(t, name, shippedConfig(t, "tier3-tenants.yaml"),
		"LOGX_KAFKA_BROKERS="+strings.Join(c.ListenAddrs(), ","),
		"LOGX_JOBS_FILE="+jobs,
		"LOGX_JOBS_RELOAD_INTERVAL=1s",
		"LOGX_PUSH_FILE_ROOT="+root,
	)
}

// fleetEdgeHost is an edge host of the fleet: a collector on
// fleetEdgeConfig whose status source names its tenant.
type fleetEdgeHost struct {
	tenant string
	sock   string
	next   uint64 // the id of the last line fed (feedUnix)
	node   *fleetNode
}

// startFleetEdges starts each edge host, sending to log-a at addrA and
// log-b at addrB, and waits for its socket.
func startFleetEdges(t *testing.T, edges []*fleetEdgeHost, addrA, addrB string) {
	t.Helper()
	status := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"tenant":%q}`, strings.TrimPrefix(r.URL.Path, "/"))
	}))
	t.Cleanup(status.Close)
	for _, e := range edges {
		dir := t.TempDir()
		e.sock = filepath.Join(dir, "syslog.sock")
		port := testutil.FreeTCPPort(t)
		e.node = &fleetNode{name: "edge-" + e.tenant, metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", port),
			config: fmt.Sprintf(fleetEdgeConfig, dir, status.URL+"/"+e.tenant, addrA, addrB, port)}
		e.node.start(t)
		testutil.WaitFor(t, 30*time.Second, e.node.name+"'s socket", func() bool { _, err := os.Stat(e.sock); return err == nil })
	}
}

func fleetTopics(other string) []string {
	return []string{"logs-syslog", "logs-unrouted", "logs-dlq-" + other, "logs-tenants", "logs-tenants-dlq-" + other}
}

// TestFleetChain proves the chain edge -> tier 2 (both sides, each to its
// own Kafka cluster) -> tier 3 (two nodes, one group, log-a's cluster) ->
// push destinations, and a tenant-tier node dying (kill -9) on the way:
// the survivor takes its partitions within the shipped session timeout
// (30 s, plus margin), every line of every tenant with a job reaches that
// tenant's destination (repeats allowed: at least once), and no line of a
// tenant without a job reaches a destination or the tenant topic.
//
// Two edge hosts run as collectors (fleetEdgeConfig: a tenant per host,
// e-in with a job and e-out without); the other tenants' lines are sent
// straight to log-a and log-b as an edge's cfjs1 exporter in mode all
// sends them (v2Client), since an edge assigns one tenant per host and
// twelve more edges would only cost the shared machine: they spread the
// records over the partitions so that the killed node surely held some.
func TestFleetChain(t *testing.T) {
	binary(t)
	clusterA := newKafka(t, 6, fleetTopics("log-b")...)
	clusterB := newKafka(t, 6, fleetTopics("log-a")...)
	root := t.TempDir()
	var admittedTenants []string
	for i := range fleetV2Admitted {
		admittedTenants = append(admittedTenants, fmt.Sprintf("f%02d", i))
	}
	jobs := writeJobs(t, root, append(admittedTenants, "e-in")...)
	pushed := filepath.Join(root, "pushed")

	logA, addrA := fleetTier2(t, "log-a", clusterA, jobs)
	logB, addrB := fleetTier2(t, "log-b", clusterB, jobs)

	nodes := []*fleetNode{fleetTier3(t, "tier3-1", clusterA, jobs, root), fleetTier3(t, "tier3-2", clusterA, jobs, root)}
	for _, n := range nodes {
		n.start(t)
	}
	partitions := func(n *fleetNode) float64 { return n.metric("otelcol_logx_kafkatopics_receiver_partitions") }
	testutil.WaitFor(t, 90*time.Second, "both tenant-tier nodes to own partitions", func() bool {
		return partitions(nodes[0]) > 0 && partitions(nodes[1]) > 0 && partitions(nodes[0])+partitions(nodes[1]) == 6
	}, func() string { return fmt.Sprintf("partitions %v and %v", partitions(nodes[0]), partitions(nodes[1])) })

	edges := []*fleetEdgeHost{{tenant: "e-in", next: fleetEdgeInBase}, {tenant: "e-out", next: fleetEdgeOutBase}}
	startFleetEdges(t, edges, addrA, addrB)

	var sent []uint64
	var mu sync.Mutex
	nextV2 := fleetV2Base
	v2Batch := func(n int) {
		ids := make([]uint64, n)
		for i := range ids {
			ids[i] = nextV2
			nextV2++
		}
		fleetSendV2(t, ids, fleetTenantOf, addrA, addrB)
		mu.Lock()
		sent = append(sent, ids...)
		mu.Unlock()
	}
	// feed writes to every edge (rate lines/s each, for d) while batches go
	// straight to tier 2, and returns once both are done.
	rate, d := scale(200, 1000), scale(3*time.Second, 20*time.Second)
	feed := func(phase int) {
		var wg sync.WaitGroup
		for _, e := range edges {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ids := feedUnix(t, e.sock, &e.next, phase, rate, d)
				mu.Lock()
				sent = append(sent, ids...)
				mu.Unlock()
			}()
		}
		for range int(d / (250 * time.Millisecond)) {
			v2Batch(scale(300, 1000))
		}
		wg.Wait()
	}

	feed(1)
	testutil.WaitFor(t, 90*time.Second, "lines of tenants with a job pushed by both tenant-tier nodes", func() bool {
		return nodes[0].metric("otelcol_logx_tenantbuffer_push_records") > 0 && nodes[1].metric("otelcol_logx_tenantbuffer_push_records") > 0
	}, func() string {
		return fmt.Sprintf("pushed %v and %v", nodes[0].metric("otelcol_logx_tenantbuffer_push_records"), nodes[1].metric("otelcol_logx_tenantbuffer_push_records"))
	})

	// kill -9 a tenant-tier node while lines flow.
	victim, survivor := nodes[0], nodes[1]
	owned := partitions(victim)
	var killedAt time.Time
	var takeover time.Duration
	feeding := make(chan struct{})
	go func() {
		defer close(feeding)
		feed(2)
	}()
	killedAt = time.Now()
	victim.col.kill9()
	const sessionTimeout = 30 * time.Second // tier3-tenants.yaml, group.session_timeout
	testutil.WaitFor(t, sessionTimeout+15*time.Second, "the survivor to own every partition", func() bool {
		if partitions(survivor) == 6 {
			takeover = time.Since(killedAt)
			return true
		}
		return false
	}, func() string { return fmt.Sprintf("the survivor owns %v partitions", partitions(survivor)) })
	<-feeding
	mu.Lock()
	beforeTakeoverFeed := len(sent)
	mu.Unlock()
	feed(3)
	mu.Lock()
	fedAfterTakeover := append([]uint64(nil), sent[beforeTakeoverFeed:]...)
	mu.Unlock()
	t.Logf("killed %s (it owned %.0f partitions); the survivor owned all 6 after %s (bound: the session timeout, %s, plus 15s)",
		victim.name, owned, takeover.Round(100*time.Millisecond), sessionTimeout)

	var admitted []uint64
	for _, id := range sent {
		if fleetAdmitted(fleetTenantOf(id)) {
			admitted = append(admitted, id)
		}
	}
	allPushed := func() idSet {
		got := idSet{}
		for _, ids := range fleetPushedByTenant(t, pushed) {
			got.addAll(ids)
		}
		return got
	}
	var got idSet
	missingNow := func() (int, []uint64) { got = allPushed(); return got.missing(admitted) }
	// Delivery resumes without the killed node: every admitted line fed
	// once the survivor owned every partition arrives while it is still
	// down (lines still on their way through the edges and tier 2 too).
	var admittedAfterTakeover []uint64
	for _, id := range fedAfterTakeover {
		if fleetAdmitted(fleetTenantOf(id)) {
			admittedAfterTakeover = append(admittedAfterTakeover, id)
		}
	}
	if len(admittedAfterTakeover) == 0 {
		t.Fatal("no admitted line was fed after the takeover")
	}
	testutil.WaitFor(t, 90*time.Second, "the admitted lines fed after the takeover pushed without the killed node", func() bool {
		got = allPushed()
		n, _ := got.missing(admittedAfterTakeover)
		return n == 0
	}, func() string {
		n, first := got.missing(admittedAfterTakeover)
		return fmt.Sprintf("%d of %d missing (first %x)", n, len(admittedAfterTakeover), first)
	})
	// What the killed node had on disk (offsets committed, not yet pushed)
	// stays there until it runs again: the survivor reads from the
	// committed offsets. Wait for everything else to arrive, count the
	// rest, then start the killed node again on its disk.
	testutil.WaitFor(t, 90*time.Second, "the survivor to push what it reads", func() bool {
		lag := survivor.metric("otelcol_logx_kafkatopics_receiver_lag")
		return lag == 0 && survivor.metric("otelcol_logx_tenantbuffer_push_lag_records") == 0
	}, func() string {
		return fmt.Sprintf("lag %v, push lag %v", survivor.metric("otelcol_logx_kafkatopics_receiver_lag"), survivor.metric("otelcol_logx_tenantbuffer_push_lag_records"))
	})
	stranded, strandedFirst := missingNow()
	t.Logf("before the killed node runs again: the %d admitted lines fed after the takeover pushed; %d of %d admitted lines not pushed (first %x): what it had buffered and committed",
		len(admittedAfterTakeover), stranded, len(admitted), strandedFirst)
	victim.start(t)
	testutil.WaitFor(t, 120*time.Second, "every line of every tenant with a job pushed", func() bool {
		n, _ := missingNow()
		return n == 0
	}, func() string {
		n, first := got.missing(admitted)
		return fmt.Sprintf("%d of %d admitted lines missing (first %x, tenants %v)", n, len(admitted), first, fleetTenantsOf(first))
	})

	// Each line in its own tenant's directory, and no tenant without a job
	// anywhere.
	byTenant := fleetPushedByTenant(t, pushed)
	if overlaps := fleetOverlappingBatches(t, pushed); len(overlaps) > 0 {
		t.Logf("batch files of two numberings share a tenant's directory (the killed node's buffer and the survivor's; a batch of one with the other's name would replace it): %v", overlaps)
	}
	for tenant, ids := range byTenant {
		if !fleetAdmitted(tenant) {
			t.Errorf("tenant %s has no job but has a push directory with %d lines", tenant, len(ids))
		}
		for id := range ids {
			if fleetTenantOf(id) != tenant {
				t.Errorf("line %x of tenant %s pushed into %s's directory", id, fleetTenantOf(id), tenant)
				break
			}
		}
	}
	for name, c := range map[string]*kfake.Cluster{"log-a": clusterA, "log-b": clusterB} {
		keys, n := fleetTopicKeys(t, c, "logs-tenants")
		var names []string
		for k := range keys {
			names = append(names, k)
			if !fleetAdmitted(k) {
				t.Errorf("%s's tenant topic holds %d records of tenant %q, which has no job", name, keys[k], k)
			}
		}
		sort.Strings(names)
		t.Logf("%s's tenant topic: %d records, keys %v", name, n, names)
	}
	dropped := logA.metric("otelcol_logx_tenantfilter_records_dropped", `reason="no_job"`)
	droppedB := logB.metric("otelcol_logx_tenantfilter_records_dropped", `reason="no_job"`)
	notAdmitted := len(sent) - len(admitted)
	t.Logf("%d lines sent (%d of tenants with a job), all pushed, %d pushed more than once; tier 2 dropped %.0f (log-a) and %.0f (log-b) records of tenants without a job, of %d sent",
		len(sent), len(admitted), got.duplicates(), dropped, droppedB, notAdmitted)
	if int(dropped) != notAdmitted || int(droppedB) != notAdmitted {
		t.Errorf("tier 2 counted %.0f and %.0f records dropped for no job; %d lines of tenants without a job were sent", dropped, droppedB, notAdmitted)
	}
}

// fleetTenantsOf names the tenants of ids.
func fleetTenantsOf(ids []uint64) []string {
	var out []string
	for _, id := range ids {
		out = append(out, fleetTenantOf(id))
	}
	return out
}

// incidentTenant names tenant i of TestIncidentReplayAcrossTiers: a0000 ..
// a0999 have jobs, n00000 .. are the tenants that appear once the job
// document is blank.
func incidentTenant(id uint64) string {
	if id >= incidentNewBase {
		return fmt.Sprintf("n%05d", id-incidentNewBase)
	}
	return fmt.Sprintf("a%04d", id%incidentActive)
}

const (
	incidentActive  = 1000
	incidentNewBase = uint64(1) << 40
)

// TestIncidentReplayAcrossTiers replays the incident across tier 2 and
// tier 3: a job document admitting 1,000 tenants is in force at both
// (the same file); their lines flow; then the document is written empty
// and 40,000 new tenants appear in the input while the 1,000 keep sending.
// Both tiers must refuse the blank document; tier 2 must drop (and count)
// the new tenants' records, so that the tenant topic grows by the active
// tenants' lines only, not 40-fold; tier 3 must keep about 1,000 buffers;
// and every line of the 1,000 must be pushed.
//
// Lines go straight into log-a with v2Client, as an edge's cfjs1 exporter
// sends them: an edge host assigns one tenant (per host), and 41,000 edge
// hosts do not fit in a test. One tier-2 side and one tenant-tier node:
// the other side is the same config on another cluster.
func TestIncidentReplayAcrossTiers(t *testing.T) {
	binary(t)
	c := newKafka(t, 6, fleetTopics("log-b")...)
	root := t.TempDir()
	var tenants []string
	for i := range incidentActive {
		tenants = append(tenants, incidentTenant(uint64(i)))
	}
	jobs := writeJobs(t, root, tenants...)
	pushed := filepath.Join(root, "pushed")
	logA, addr := fleetTier2(t, "log-a", c, jobs)
	tier3 := fleetTier3(t, "tier3", c, jobs, root)
	tier3.start(t)
	testutil.WaitFor(t, 60*time.Second, "both tiers to hold the 1,000 jobs", func() bool {
		return logA.metric("otelcol_logx_tenantfilter_jobs") == incidentActive && tier3.metric("otelcol_logx_tenantbuffer_jobs") == incidentActive
	}, func() string {
		return fmt.Sprintf("tier 2 %v jobs, tier 3 %v", logA.metric("otelcol_logx_tenantfilter_jobs"), tier3.metric("otelcol_logx_tenantbuffer_jobs"))
	})

	// The 1,000 tenants' lines: id i is tenant a(i % 1000).
	var active []uint64
	nextActive := uint64(0)
	activeLines := func(n int) []uint64 {
		ids := make([]uint64, n)
		for i := range ids {
			ids[i] = nextActive
			nextActive++
		}
		active = append(active, ids...)
		return ids
	}
	perTenant := scale(2, 5)
	fleetSendV2(t, activeLines(perTenant*incidentActive), incidentTenant, addr)

	// The document goes blank: both tiers refuse it.
	if err := os.WriteFile(jobs, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The refusals are alerted on: each tier's alert rule fires on an
	// increase of its refusal counter, and a counter series shows an
	// increase only once it grew after it appeared (it appears at 1, with
	// the first refusal): the blank document, read again at every reload,
	// must be refused again.
	for alert, counter := range map[string]string{
		"LogxTenantFilterJobConfigRefused": "otelcol_logx_tenantfilter_job_reloads_refused",
		"LogxTenantJobConfigRefused":       "otelcol_logx_tenantbuffer_job_reloads_refused",
	} {
		if expr := alertExpr(t, alert); !strings.Contains(expr, "increase("+counter+"[") {
			t.Fatalf("alert %s (%s) does not fire on an increase of %s", alert, expr, counter)
		}
	}
	testutil.WaitFor(t, 30*time.Second, "both tiers to refuse the blank document, again at the next reload", func() bool {
		return logA.metric("otelcol_logx_tenantfilter_job_reloads_refused", `reason="blank"`) >= 2 &&
			tier3.metric("otelcol_logx_tenantbuffer_job_reloads_refused", `reason="blank"`) >= 2
	}, func() string {
		return fmt.Sprintf("tier 2 refused %v, tier 3 %v", logA.metric("otelcol_logx_tenantfilter_job_reloads_refused"), tier3.metric("otelcol_logx_tenantbuffer_job_reloads_refused"))
	})

	// Tier 3's buffers, sampled while the new tenants arrive.
	var maxBuffers atomic.Int64
	sampleCtx, stopSampling := context.WithCancel(context.Background())
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if b := int64(tier3.metric("otelcol_logx_tenantbuffer_buffers")); b > maxBuffers.Load() {
				maxBuffers.Store(b)
			}
			select {
			case <-sampleCtx.Done():
				return
			case <-tick.C:
			}
		}
	}()

	// 40,000 new tenants, one line each, interleaved with the 1,000's lines.
	newTenants := scale(40_000, 40_000)
	var batch []uint64
	for i := range newTenants {
		batch = append(batch, incidentNewBase+uint64(i))
		if i%(newTenants/(perTenant*incidentActive)) == 0 {
			batch = append(batch, activeLines(1)...)
		}
	}
	for len(active) < 2*perTenant*incidentActive {
		batch = append(batch, activeLines(1)...)
	}
	fleetSendV2(t, batch, incidentTenant, addr)
	total := len(active) + newTenants
	t.Logf("%d lines: %d of the 1,000 tenants with jobs, %d of 40,000 new tenants", total, len(active), newTenants)

	var got idSet
	testutil.WaitFor(t, 120*time.Second, "every line of the 1,000 tenants pushed", func() bool {
		got = pushedIDs(t, pushed)
		n, _ := got.missing(active)
		return n == 0
	}, func() string {
		n, first := got.missing(active)
		return fmt.Sprintf("%d of %d missing (first %x)", n, len(active), first)
	})

	s2, err := fleetSeries(logA.metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	s3, err := fleetSeries(tier3.metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	noJob := fleetSum(s2, "otelcol_logx_tenantfilter_records_dropped", `reason="no_job"`)
	topicSize := fleetTopicSize(t, c, "logs-tenants")
	buffersNow := fleetSum(s3, "otelcol_logx_tenantbuffer_buffers")
	refused3 := fleetSum(s3, "otelcol_logx_tenantbuffer_records_refused")
	t.Logf("tier 2: refused the blank document %.0f times, dropped %.0f records for no job; tenant topic %d records for %d active lines of %d fed; tier 3: refused the blank document %.0f times, %.0f buffers (at most %d sampled so far), %.0f records refused, %d lines pushed more than once",
		fleetSum(s2, "otelcol_logx_tenantfilter_job_reloads_refused", `reason="blank"`), noJob, topicSize, len(active), total,
		fleetSum(s3, "otelcol_logx_tenantbuffer_job_reloads_refused", `reason="blank"`), buffersNow, maxBuffers.Load(), refused3, got.duplicates())

	if int(noJob) != newTenants {
		t.Errorf("tier 2 dropped %.0f records for no job; the %d new tenants sent one each", noJob, newTenants)
	}
	if slack := int64(len(active)) / 20; topicSize > int64(len(active))+slack {
		t.Errorf("the tenant topic holds %d records, more than the %d active lines + %d: the new tenants reached Kafka", topicSize, len(active), slack)
	}
	if b := maxBuffers.Load(); b > incidentActive+10 || buffersNow > incidentActive+10 {
		t.Errorf("tier 3 held up to %d buffers (%.0f at the end), more than the 1,000 admitted tenants + 10", b, buffersNow)
	}
	for id := range got {
		if id >= incidentNewBase {
			t.Fatalf("line %x of new tenant %s, which has no job, was pushed", id, incidentTenant(id))
		}
	}
	if keys, n := fleetTopicKeys(t, c, "logs-tenants"); len(keys) > incidentActive {
		t.Errorf("the tenant topic's %d records have %d keys: more tenants than the 1,000 with jobs", n, len(keys))
	}

	// Tier 3 on its own: 40,000 more new tenants' records produced straight
	// to the tenant topic (as from a tier 2 that let them through), with one
	// more line of each of the 1,000. Tier 3 refuses them (no job, its own
	// document blank and refused too) and keeps its buffers at the 1,000.
	refusedBefore := fleetSum(s3, "otelcol_logx_tenantbuffer_records_refused", `reason="no_job"`)
	direct := make([]uint64, 0, newTenants+incidentActive)
	for i := range newTenants {
		direct = append(direct, incidentNewBase+uint64(newTenants+i))
		if i%(newTenants/incidentActive) == 0 {
			direct = append(direct, activeLines(1)...)
		}
	}
	fleetProduce(t, c, "logs-tenants", direct, incidentTenant)
	var refusedNoJob float64
	testutil.WaitFor(t, 120*time.Second, "tier 3 to push the 1,000's lines and refuse the new tenants'", func() bool {
		got = pushedIDs(t, pushed)
		n, _ := got.missing(active)
		refusedNoJob = tier3.metric("otelcol_logx_tenantbuffer_records_refused", `reason="no_job"`) - refusedBefore
		return n == 0 && refusedNoJob >= float64(newTenants)
	}, func() string {
		n, first := got.missing(active)
		return fmt.Sprintf("%d of %d missing (first %x), %.0f refused for no job", n, len(active), first, refusedNoJob)
	})
	stopSampling()
	<-sampled
	buffersNow = tier3.metric("otelcol_logx_tenantbuffer_buffers")
	t.Logf("tier 3 alone: %d records of new tenants straight from Kafka, %.0f refused for no job; %.0f buffers (at most %d sampled over the run)",
		newTenants, refusedNoJob, buffersNow, maxBuffers.Load())
	if int(refusedNoJob) != newTenants {
		t.Errorf("tier 3 refused %.0f records for no job, %d of tenants without a job came", refusedNoJob, newTenants)
	}
	if b := maxBuffers.Load(); b > incidentActive+10 || buffersNow > incidentActive+10 {
		t.Errorf("tier 3 held up to %d buffers (%.0f at the end) with the new tenants straight from Kafka, more than the 1,000 admitted tenants + 10", b, buffersNow)
	}
	for id := range got {
		if id >= incidentNewBase {
			t.Fatalf("line %x of new tenant %s, which has no job, was pushed", id, incidentTenant(id))
		}
	}
}

// alertExpr is the expression of the alert rule named name in the shipped
// rules (distribution/prometheus/alerts.yaml).
func alertExpr(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "distribution", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == name {
				return r.Expr
			}
		}
	}
	t.Fatalf("no alert rule %s in alerts.yaml", name)
	return ""
}

// fleetProduce writes ids to topic as tenant lines, keyed by tenant.
func fleetProduce(t *testing.T, c *kfake.Cluster, topic string, ids []uint64, tenantOf func(uint64) string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, 0, len(ids))
	for _, id := range ids {
		tenant := tenantOf(id)
		recs = append(recs, &kgo.Record{Key: []byte(tenant), Value: tenantLine(id, tenant)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// fleetOverlappingBatches counts, per tenant directory under dir, the batch
// files (<first>-<next>.ndjson) whose record range overlaps the one before
// it: two buffers numbering the same tenant's records, each from its own
// start, writing to one directory.
func fleetOverlappingBatches(t *testing.T, dir string) map[string]int {
	t.Helper()
	out := map[string]int{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		files, _ := os.ReadDir(filepath.Join(dir, e.Name()))
		type batchRange struct{ first, next uint64 }
		var ranges []batchRange
		for _, f := range files {
			var r batchRange
			if _, err := fmt.Sscanf(f.Name(), "%d-%d.ndjson", &r.first, &r.next); err == nil {
				ranges = append(ranges, r)
			}
		}
		sort.Slice(ranges, func(i, j int) bool { return ranges[i].first < ranges[j].first })
		for i := 1; i < len(ranges); i++ {
			if ranges[i].first < ranges[i-1].next {
				out[e.Name()]++
			}
		}
	}
	return out
}

// TestFleetPushFilesAfterTakeover: a tenant's partition moves from one
// tenant-tier node to another (the first stops), and both push that
// tenant's batches to the same file destination. Each node numbers the
// tenant's records in its own buffer, from 0, and names a batch file by
// that range (<first>-<next>.ndjson): the second node's first batch of the
// tenant can bear the name of a batch the first one pushed, and the rename
// replaces it. Records of one size and batches of max_records (500, the
// job's batch) make the names meet: every one of the 1,000 records must
// still be at the destination.
func TestFleetPushFilesAfterTakeover(t *testing.T) {
	binary(t)
	c := newKafka(t, 1, "logs-tenants")
	root := t.TempDir()
	jobs := writeJobs(t, root, "t0")
	out := filepath.Join(root, "pushed")
	produceAs := func(tenant string, ids []uint64) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("logs-tenants"))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		var recs []*kgo.Record
		for _, id := range ids {
			recs = append(recs, &kgo.Record{Key: []byte(tenant), Value: tenantLine(id, tenant)})
		}
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	ids := make([]uint64, 1000)
	for i := range ids {
		ids[i] = uint64(7_000_000 + i)
	}
	produce := func(ids []uint64) { produceAs("t0", ids) }
	// Records of t9 (no job, refused at tier 3) first, so that t0's Kafka
	// offsets (which its records carry) all have four digits: t0's records
	// are then all of one size on both nodes.
	filler := make([]uint64, 1000)
	for i := range filler {
		filler[i] = uint64(8_000_000 + i)
	}
	produceAs("t9", filler)
	// Node 1 alone: the first 500 records, pushed as one batch.
	produce(ids[:500])
	first := fleetTier3(t, "tier3-1", c, jobs, root)
	first.start(t)
	var got idSet
	testutil.WaitFor(t, 60*time.Second, "node 1 to push the first 500", func() bool {
		got = pushedIDs(t, out)
		n, _ := got.missing(ids[:500])
		return n == 0
	})
	before, _ := os.ReadDir(filepath.Join(out, "t0"))
	var names []string
	for _, f := range before {
		names = append(names, f.Name())
	}
	// Node 1 leaves; node 2 takes the partition from the committed offset
	// and gets the next 500.
	first.col.stop()
	second := fleetTier3(t, "tier3-2", c, jobs, root)
	second.start(t)
	testutil.WaitFor(t, 60*time.Second, "node 2 to own the partition", func() bool {
		return second.metric("otelcol_logx_kafkatopics_receiver_partitions") == 1
	})
	produce(ids[500:])
	testutil.WaitFor(t, 60*time.Second, "node 2 to push a batch", func() bool {
		return second.metric("otelcol_logx_tenantbuffer_push_records") >= 500
	}, func() string {
		return fmt.Sprintf("node 2 pushed %v", second.metric("otelcol_logx_tenantbuffer_push_records"))
	})
	got = pushedIDs(t, out)
	after, _ := os.ReadDir(filepath.Join(out, "t0"))
	var namesAfter []string
	for _, f := range after {
		namesAfter = append(namesAfter, f.Name())
	}
	t.Logf("node 1's batch files %v; after node 2 pushed: %v", names, namesAfter)
	if n, firstMissing := got.missing(ids); n > 0 {
		t.Errorf("%d of %d records are not at the destination (first %x): node 2's batch file took the name of node 1's and replaced it", n, len(ids), firstMissing)
	}
}

// fleetMirror copies topic from src to dst as MirrorMaker does (same topic
// name, partition and key), from the start, until the test ends; it returns
// the number of records copied so far.
func fleetMirror(t *testing.T, src, dst *kfake.Cluster, topic string) func() int64 {
	t.Helper()
	from, err := kgo.NewClient(kgo.SeedBrokers(src.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	to, err := kgo.NewClient(kgo.SeedBrokers(dst.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		from.Close()
		t.Fatal(err)
	}
	var copied atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var recs []*kgo.Record
			from.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				recs = append(recs, &kgo.Record{Topic: topic, Partition: r.Partition, Key: r.Key, Value: r.Value})
			})
			if len(recs) == 0 {
				continue
			}
			if err := to.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				if ctx.Err() == nil {
					t.Errorf("mirroring %s: %v", topic, err)
				}
				return
			}
			copied.Add(int64(len(recs)))
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		from.Close()
		to.Close()
	})
	return copied.Load
}

// TestFleetTenantLinesThroughASideOutage: the tenant tier reads log-a's
// cluster, and log-a goes down while an edge host of a tenant with a job
// writes. The edge sends what log-a misses to log-b as dead-letter copies;
// log-b's tenant pipeline writes them to logs-tenants-dlq-log-a, which
// MirrorMaker mirrors to log-a's cluster (here a copy loop: same topic
// name, same partitions). Every line of the tenant must still reach its
// destination from the tenant tier on log-a's cluster: the lines log-a
// took from the tenant topic, the ones it missed from the mirrored
// dead-letter tenant topic.
func TestFleetTenantLinesThroughASideOutage(t *testing.T) {
	binary(t)
	const mirrored = "logs-tenants-dlq-log-a"
	clusterA := newKafka(t, 6, append(fleetTopics("log-b"), mirrored)...)
	clusterB := newKafka(t, 6, fleetTopics("log-a")...)
	root := t.TempDir()
	jobs := writeJobs(t, root, "e-in")
	pushed := filepath.Join(root, "pushed")
	logA, addrA := fleetTier2(t, "log-a", clusterA, jobs)
	_, addrB := fleetTier2(t, "log-b", clusterB, jobs)
	copied := fleetMirror(t, clusterB, clusterA, mirrored)
	tier3 := fleetTier3(t, "tier3", clusterA, jobs, root)
	tier3.start(t)
	testutil.WaitFor(t, 90*time.Second, "the tenant-tier node to own the tenant topic's partitions", func() bool {
		return tier3.metric("otelcol_logx_kafkatopics_receiver_partitions") >= 6
	})
	edge := &fleetEdgeHost{tenant: "e-in", next: fleetEdgeInBase}
	startFleetEdges(t, []*fleetEdgeHost{edge}, addrA, addrB)

	rate, d := scale(200, 1000), scale(3*time.Second, 20*time.Second)
	sent := feedUnix(t, edge.sock, &edge.next, 1, rate, d)
	testutil.WaitFor(t, 90*time.Second, "lines pushed while both sides are up", func() bool {
		return tier3.metric("otelcol_logx_tenantbuffer_push_records") > 0
	})
	logA.col.stop()
	sent = append(sent, feedUnix(t, edge.sock, &edge.next, 2, rate, d)...)
	testutil.WaitFor(t, 60*time.Second, "log-b to write the dead-letter copies of what log-a missed, and the mirror to copy them", func() bool {
		return copied() > 0
	})

	var got idSet
	testutil.WaitFor(t, 120*time.Second, "every line of the tenant pushed by the tenant tier on log-a's cluster", func() bool {
		got = pushedIDs(t, pushed)
		n, _ := got.missing(sent)
		return n == 0
	}, func() string {
		n, first := got.missing(sent)
		return fmt.Sprintf("%d of %d missing (first %x); %d dead-letter copies mirrored to log-a's cluster", n, len(sent), first, copied())
	})
	t.Logf("%d lines of tenant e-in, all pushed (%d more than once); log-a down for the second half: %d dead-letter copies reached log-a's cluster through the mirror",
		len(sent), got.duplicates(), copied())
}
