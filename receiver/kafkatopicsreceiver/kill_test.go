package kafkatopicsreceiver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
)

// memberBrokersEnv tells TestGroupMemberChild which cluster to join.
const memberBrokersEnv = "KAFKATOPICS_TEST_MEMBER_BROKERS"

// memberHoldAfter: once the child member's pipeline has accepted this
// many records, its next call writes its records and then holds on until
// the child is killed: records that reached the destination and were
// never committed, as when a node dies between its buffer's write and
// the commit.
const memberHoldAfter = 300

// memberLifetime bounds a child member whose parent vanished without
// killing it: it then leaves the group instead of lingering.
const memberLifetime = 3 * time.Minute

// TestGroupMemberChild is the member TestGroupMemberKilledMidRun kills;
// without its environment variable it returns at once. It consumes as a
// member of group "g" and writes a line per record its pipeline gets
// ("rec <seq> <partition> <offset> <a|h> ."), before the pipeline call
// returns. A call's records are marked a (accepted: the call returns, and
// the receiver commits their offset before its next call) until
// memberHoldAfter records were accepted; the next call's are marked h
// (held: that call does not return, so its offset is never committed).
func TestGroupMemberChild(t *testing.T) {
	brokers := os.Getenv(memberBrokersEnv)
	if brokers == "" {
		return
	}
	accepted := 0
	next, err := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
		hold := accepted >= memberHoldAfter
		mark := "a"
		if hold {
			mark = "h"
		}
		var lines []byte
		for _, r := range recordsOf(ld) {
			lines = fmt.Appendf(lines, "rec %d %s %d %s .\n", r.seq, r.partition, r.offset, mark)
		}
		if hold {
			lines = append(lines, "held\n"...)
		}
		accepted += ld.LogRecordCount()
		if _, err := os.Stdout.Write(lines); err != nil {
			return err
		}
		if hold {
			<-time.After(memberLifetime)
			return errors.New("held past the member's lifetime")
		}
		return nil
	})
	require.NoError(t, err)
	startReceiver(t, testConfigFor(strings.Split(brokers, ","), "g"), next)
	<-time.After(memberLifetime)
}

// memberProcess is a group member running in a child process: what its
// pipeline accepted is read from its output as it goes.
type memberProcess struct {
	cmd  *exec.Cmd
	seen seen
	mu   sync.Mutex
	held map[int64]bool // the seqs of the call the child's pipeline holds
	hold chan struct{}  // closed once the child's pipeline holds a call
	read chan struct{}  // closed once the child's output ended
}

func startMemberProcess(t *testing.T, c *kfake.Cluster) *memberProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestGroupMemberChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), memberBrokersEnv+"="+strings.Join(c.ListenAddrs(), ","))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	m := &memberProcess{cmd: cmd, held: map[int64]bool{}, hold: make(chan struct{}), read: make(chan struct{})}
	go func() {
		defer close(m.read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "held" {
				close(m.hold)
				continue
			}
			r, held, ok := parseMemberLine(sc.Text())
			if !ok {
				continue
			}
			m.seen.addRecords([]seenRecord{r})
			if held {
				m.mu.Lock()
				m.held[r.seq] = true
				m.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-m.read
		_ = cmd.Wait()
	})
	return m
}

// parseMemberLine reads one "rec <seq> <partition> <offset> <a|h> ." line;
// a line cut short by the kill (no final ".") or test framework chatter is
// not a record.
func parseMemberLine(line string) (r seenRecord, held, ok bool) {
	f := strings.Fields(line)
	if len(f) != 6 || f[0] != "rec" || f[5] != "." || (f[4] != "a" && f[4] != "h") {
		return seenRecord{}, false, false
	}
	seq, err1 := strconv.ParseInt(f[1], 10, 64)
	off, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return seenRecord{}, false, false
	}
	return seenRecord{seq: seq, partition: f[2], offset: off}, f[4] == "h", true
}

// heldSeqs are the records of the call the child's pipeline held.
func (m *memberProcess) heldSeqs() map[int64]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.held)
}

// kill sends SIGKILL: the member neither commits nor leaves the group. It
// returns once everything the child wrote before dying was read.
func (m *memberProcess) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, m.cmd.Process.Signal(syscall.SIGKILL))
	<-m.read
	err := m.cmd.Wait()
	ws, ok := m.cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "the member did not die by SIGKILL: %v", err)
}

func TestGroupMemberKilledMidRun(t *testing.T) {
	// Three members share six partitions. One, in a process of its own,
	// is killed mid-run (SIGKILL: no last commit, no leaving the group)
	// while its pipeline holds a call whose records it wrote but did not
	// acknowledge. The group notices within the session timeout and the
	// other two take its partitions, reading them from the offsets it last
	// committed: every record produced arrives, and the records delivered
	// twice are exactly that held call's, the tail of its partition after
	// the last commit.
	c := newCluster(t, 6)
	cfg := testConfig(c, "g")
	var s [2]seen
	var hs [2]*harness
	for i := range hs {
		hs[i] = startReceiver(t, testConfig(c, "g"), sink(&s[i], nil))
	}
	victim := startMemberProcess(t, c)
	require.Eventually(t, func() bool {
		return hs[0].assigned() == 2 && hs[1].assigned() == 2
	}, 60*time.Second, 10*time.Millisecond, "the two members here have two partitions each, the child the other two")

	const total = 6000
	produce(t, c, 0, 600, 60)
	produced := make(chan error, 1)
	go func() {
		for i := 600; i < total; i += 200 {
			if err := produceErr(c, i, 200, 60); err != nil {
				produced <- err
				return
			}
		}
		produced <- nil
	}()
	select {
	case <-victim.hold:
	case <-time.After(60 * time.Second):
		t.Fatalf("the child member's pipeline never held a call (%d records accepted)", victim.seen.count())
	}
	killedAt := time.Now()
	victim.kill(t)
	held := victim.heldSeqs()
	require.NotEmpty(t, held)

	// The victim's partitions move once the group has not heard from it
	// for the session timeout; not after a rebalance timeout as well (which
	// the members here would cost, were they to hold the rebalance back).
	var takeover time.Duration
	require.Eventually(t, func() bool {
		takeover = time.Since(killedAt)
		return hs[0].assigned()+hs[1].assigned() == 6
	}, cfg.Group.SessionTimeout+cfg.Group.RebalanceTimeout+30*time.Second, 20*time.Millisecond, "the survivors took every partition")
	assert.Less(t, takeover, cfg.Group.SessionTimeout+5*time.Second, "partitions moved within the session timeout (and the rejoin after it)")
	require.NoError(t, <-produced)

	// Every record arrives: from the survivors, or from the victim before
	// its held call (those were committed); the held call's records must
	// come again from the survivors.
	killed := victim.seen.snapshot()
	survivors := func() []seenRecord { return append(s[0].snapshot(), s[1].snapshot()...) }
	require.Eventually(t, func() bool {
		got := map[int64]bool{}
		for _, r := range survivors() {
			got[r.seq] = true
		}
		for _, r := range killed {
			if !held[r.seq] {
				got[r.seq] = true
			}
		}
		return len(got) == total
	}, 60*time.Second, 20*time.Millisecond, "every record produced arrives, the held call's again")

	// The survivors never got a record twice between them, and the records
	// delivered twice are the victim's held call, no more.
	_, survivorRepeats := distinctSeqs(survivors())
	assert.Zero(t, survivorRepeats, "records repeated among the members that kept running")
	again := map[int64]bool{}
	for _, r := range survivors() {
		if slices.ContainsFunc(killed, func(k seenRecord) bool { return k.seq == r.seq }) {
			again[r.seq] = true
		}
	}
	assert.Equal(t, held, again, "delivered twice: exactly the records of the call the victim never acknowledged")
	_, allRepeats := distinctSeqs(append(survivors(), killed...))
	assert.Equal(t, len(held), allRepeats)
	assert.LessOrEqual(t, len(held), cfg.Fetch.MaxPollRecords, "the uncommitted tail is at most one poll")

	// The held call is the tail of its partition as the victim read it.
	var heldPartition string
	var lastAcked, firstHeld int64 = -1, -1
	for _, r := range killed {
		if held[r.seq] {
			heldPartition = r.partition
		}
	}
	for _, r := range killed {
		switch {
		case r.partition != heldPartition:
		case held[r.seq] && (firstHeld < 0 || r.offset < firstHeld):
			firstHeld = r.offset
		case !held[r.seq]:
			lastAcked = max(lastAcked, r.offset)
		}
	}
	assert.Greater(t, firstHeld, lastAcked, "partition %s: the held records follow the acknowledged ones", heldPartition)
	parts := map[string]bool{}
	for _, r := range killed {
		parts[r.partition] = true
	}
	t.Logf("%d records; the killed member had delivered %d from partitions %v; the survivors owned all six %s after the kill (session timeout %s); %d delivered twice: the call it held on partition %s (offsets from %d), never committed",
		total, len(killed), slices.Sorted(maps.Keys(parts)), takeover.Round(10*time.Millisecond), cfg.Group.SessionTimeout, len(held), heldPartition, firstHeld)
}
