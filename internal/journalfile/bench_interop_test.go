//go:build interop

package journalfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

const benchEntries = 100_000

// benchJournal writes a file of benchEntries entries of 9 fields each (and
// _BOOT_ID, which journald stores as a field too), shaped like a busy
// system's log: a few distinct values per field, a unique message.
func benchJournal(b *testing.B) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "bench.journal")
	units := []string{"nginx.service", "sshd.service", "cron.service", "app.service"}
	const batch = 20_000
	for start := 0; start < benchEntries; start += batch {
		var in bytes.Buffer
		for i := start; i < start+batch; i++ {
			u := units[i%len(units)]
			in.Write(entryExport(i,
				kv{"MESSAGE", fmt.Appendf(nil, "request %d served in %d ms from 10.0.%d.%d", i, i%97, i%256, i%13)},
				kv{"PRIORITY", []byte("6")},
				kv{"SYSLOG_IDENTIFIER", []byte(u[:len(u)-8])},
				kv{"_PID", fmt.Appendf(nil, "%d", 1000+i%4)},
				kv{"_UID", []byte("33")},
				kv{"_GID", []byte("33")},
				kv{"_COMM", []byte(u[:len(u)-8])},
				kv{"_HOSTNAME", []byte("web-01")},
				kv{"_SYSTEMD_UNIT", []byte(u)},
			))
		}
		writeJournal(b, p, nil, in.Bytes())
	}
	return p
}

// BenchmarkRead100k: this package's reader against journalctl's export
// piped into a parser, over the same 100k-entry file. Reported per entry:
// wall ns, CPU µs of this process (the reader, or the parser) and of
// journalctl.
//
//	go test -tags interop -run '^$' -bench Read100k -benchtime 5x ./internal/journalfile/
func BenchmarkRead100k(b *testing.B) {
	p := benchJournal(b)

	b.Run("reader", func(b *testing.B) {
		var entries, fieldBytes int
		cpu0, t0 := testutil.ProcessCPU(), time.Now()
		for b.Loop() {
			f, err := Open(p, Options{})
			require.NoError(b, err)
			var e Entry
			for {
				err := f.Next(&e)
				if err == io.EOF {
					break
				}
				require.NoError(b, err)
				entries++
				for _, fl := range e.Fields {
					fieldBytes += len(fl)
				}
			}
			require.NoError(b, f.Close())
		}
		cpu, wall := testutil.ProcessCPU()-cpu0, time.Since(t0)
		require.Equal(b, benchEntries*b.N, entries)
		b.ReportMetric(float64(wall.Nanoseconds())/float64(entries), "ns/entry")
		b.ReportMetric(float64(cpu.Microseconds())/float64(entries), "cpu-µs/entry")
		b.ReportMetric(float64(entries)/wall.Seconds(), "entries/s")
		b.ReportMetric(float64(fieldBytes)/float64(entries), "field-bytes/entry")
	})

	b.Run("journalctl-export", func(b *testing.B) {
		var entries int
		var childCPU time.Duration
		cpu0, t0 := testutil.ProcessCPU(), time.Now()
		for b.Loop() {
			cmd := exec.Command("journalctl", "--file="+p, "--output=export")
			out, err := cmd.StdoutPipe()
			require.NoError(b, err)
			require.NoError(b, cmd.Start())
			n, err := countExport(out)
			require.NoError(b, err)
			require.NoError(b, cmd.Wait())
			ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
			childCPU += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			entries += n
		}
		cpu, wall := testutil.ProcessCPU()-cpu0, time.Since(t0)
		require.Equal(b, benchEntries*b.N, entries)
		b.ReportMetric(float64(wall.Nanoseconds())/float64(entries), "ns/entry")
		b.ReportMetric(float64(childCPU.Microseconds())/float64(entries), "journalctl-cpu-µs/entry")
		b.ReportMetric(float64(cpu.Microseconds())/float64(entries), "parser-cpu-µs/entry")
		b.ReportMetric(float64(entries)/wall.Seconds(), "entries/s")
	})
}

// countExport walks an export stream as a minimal parser would (lines,
// binary values skipped by length) and counts its entries: the cost of
// the receiver's real parser and conversion comes on top.
func countExport(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	n := 0
	for {
		line, err := br.ReadSlice('\n')
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if len(line) == 1 {
			n++
			continue
		}
		if bytes.IndexByte(line, '=') >= 0 {
			continue
		}
		var l [8]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return n, err
		}
		if _, err := br.Discard(int(binary.LittleEndian.Uint64(l[:])) + 1); err != nil {
			return n, err
		}
	}
}
