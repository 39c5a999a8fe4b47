package tenantbufferexporter

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/otlprecord"
)

const (
	crashDirEnv   = "TENANTBUFFER_CRASH_DIR"
	crashRunEnv   = "TENANTBUFFER_CRASH_RUN"
	crashTenants  = 20
	crashKills    = 12
	crashMaxBatch = 60
)

// crashConfig is shared by the child and the checker: small segments and
// few open files, so that kills land in rolls and handle evictions too.
func crashConfig(dir string) *Config {
	cfg := testConfig(dir)
	cfg.Segments.MaxBytes = 8 << 10
	cfg.Limits.MaxOpenFiles = 4
	return cfg
}

// TestCrashChild is the child process of TestCrashRecoversAcknowledged:
// without its environment variable it returns at once. It appends batches
// through the exporter as the pipeline would, and reports each batch on
// stdout once ConsumeLogs returned nil (the acknowledgement).
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		return
	}
	run := os.Getenv(crashRunEnv)
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), crashConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	out := os.Stdout
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for b := 0; ; b++ {
		ld := plog.NewLogs()
		sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
		n := 1 + rng.IntN(crashMaxBatch)
		spread := 1 + rng.IntN(crashTenants) // some batches sync file by file, others with syncfs
		for i := range n {
			lr := sl.LogRecords().AppendEmpty()
			lr.Attributes().PutStr(logattr.Tenant, fmt.Sprint("t", rng.IntN(spread)))
			lr.Body().SetStr(fmt.Sprintf("%s-%d-%d-%s", run, b, i, strings.Repeat("p", rng.IntN(300))))
		}
		if err := exp.ConsumeLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(out, "ack %s-%d %d\n", run, b, n)
	}
}

// TestCrashRecoversAcknowledged kills a child process that writes through
// the exporter with SIGKILL at random moments, many times over the same
// directory, and checks after each kill that the store opens and holds
// every record whose batch was acknowledged.
func TestCrashRecoversAcknowledged(t *testing.T) {
	dir := t.TempDir()
	acked := map[string]int{} // batch -> records
	rng := rand.New(rand.NewPCG(1, 2))
	totalAcked := 0
	var torn int64
	for run := range crashKills {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashRunEnv+"="+strconv.Itoa(run))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 1 + rng.IntN(60)
		sc := bufio.NewScanner(stdout)
		seen := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || f[0] != "ack" {
				continue // test framework chatter
			}
			n, _ := strconv.Atoi(f[2])
			acked[f[1]] = n
			totalAcked += n
			if seen++; seen == killAfter {
				_ = cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("run %d: child did not die by SIGKILL (acks %d): %v", run, seen, err)
		}
		torn += checkAcknowledged(t, dir, acked, run)
	}
	t.Logf("%d kills, %d acknowledged records, none lost; %d torn tails cut", crashKills, totalAcked, torn)
}

func checkAcknowledged(t *testing.T, dir string, acked map[string]int, run int) int64 {
	t.Helper()
	st, err := buffers.Open(crashConfig(dir).storeOptions())
	if err != nil {
		t.Fatalf("run %d: store does not open after kill: %v", run, err)
	}
	defer st.Close()
	found := map[string]int{}
	for i := range crashTenants {
		var from uint64
		for {
			recs, err := st.ReadAt(fmt.Sprint("t", i), from, 1000, 1<<20)
			if err != nil {
				break // this tenant never got a record
			}
			if len(recs) == 0 {
				break
			}
			for _, r := range recs {
				ld, err := otlprecord.DecodeProto(r.Payload)
				if err != nil {
					t.Fatalf("run %d: undecodable record survived: %v", run, err)
				}
				body := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str()
				parts := strings.SplitN(body, "-", 4)
				found[parts[0]+"-"+parts[1]]++
			}
			from = recs[len(recs)-1].Next
		}
	}
	for batch, n := range acked {
		if found[batch] != n {
			t.Fatalf("run %d: batch %s acknowledged with %d records, %d recovered (torn: %+v)", run, batch, n, found[batch], st.Stats())
		}
	}
	return st.Stats().TornSegments
}
