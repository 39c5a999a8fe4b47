package testutil

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A writer process is the test binary run again as a plain program that
// writes syslog lines to a receiver's FIFO or socket and times its writes:
// a writer whose latency is not disturbed by the receiver's own runtime
// (GC, scheduler) in the test process, as a real service's is not. The
// test package's TestMain calls RunWriterProcess first; the test starts
// one with StartWriterProcess.
const (
	writerTargetEnv = "LOGX_TEST_WRITER_TARGET"
	writerLinesEnv  = "LOGX_TEST_WRITER_LINES"
)

// RunWriterProcess, called first in TestMain, runs the writer and exits
// when this process was started as one; otherwise it returns at once. The
// writer opens its target with open, writes the lines in writes of about
// chunkBytes, prints "half" after half of them and finally
// "maxblock <ns>", the longest a write took.
func RunWriterProcess(open func(target string) (io.WriteCloser, error), chunkBytes int) {
	target := os.Getenv(writerTargetEnv)
	if target == "" {
		return
	}
	os.Exit(runWriter(target, open, chunkBytes))
}

func runWriter(target string, open func(string) (io.WriteCloser, error), chunkBytes int) int {
	total, err := strconv.Atoi(os.Getenv(writerLinesEnv))
	if err != nil {
		fmt.Println("bad", writerLinesEnv)
		return 2
	}
	w, err := open(target)
	if err != nil {
		fmt.Println("open:", err)
		return 2
	}
	defer w.Close() //nolint:errcheck // the child process writes until it is killed
	var maxBlock time.Duration
	chunk := make([]byte, 0, chunkBytes+64)
	for i := range total {
		chunk = fmt.Appendf(chunk, "<14>Nov 22 04:00:00 writer[1]: line %06d\n", i)
		if len(chunk) > chunkBytes-64 || i == total-1 {
			start := time.Now()
			if _, err := w.Write(chunk); err != nil {
				fmt.Println("write:", err)
				return 2
			}
			maxBlock = max(maxBlock, time.Since(start))
			chunk = chunk[:0]
		}
		if i == total/2 {
			fmt.Println("half")
		}
	}
	fmt.Println("maxblock", maxBlock.Nanoseconds())
	return 0
}

// WriterProcess is a running writer process.
type WriterProcess struct {
	cmd *exec.Cmd
	out *bufio.Scanner
}

// StartWriterProcess starts a writer process that writes lines lines to
// target.
func StartWriterProcess(t testing.TB, target string, lines int) *WriterProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0]) //nolint:gosec // G204: re-executes the test binary itself
	cmd.Env = append(os.Environ(), writerTargetEnv+"="+target, writerLinesEnv+"="+strconv.Itoa(lines))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &WriterProcess{cmd: cmd, out: bufio.NewScanner(stdout)}
}

// WaitHalf returns once the writer has written half of its lines.
func (w *WriterProcess) WaitHalf(t testing.TB) {
	t.Helper()
	if !w.out.Scan() {
		t.Fatal("writer said nothing")
	}
	if got := w.out.Text(); got != "half" {
		t.Fatalf("writer said %q, expected half", got)
	}
}

// Finish waits for the writer to write its last line and exit, and returns
// the longest time one of its writes took.
func (w *WriterProcess) Finish(t testing.TB) time.Duration {
	t.Helper()
	if !w.out.Scan() {
		t.Fatal("writer did not finish")
	}
	maxNs, found := strings.CutPrefix(w.out.Text(), "maxblock ")
	if !found {
		t.Fatalf("writer said %q, expected maxblock <ns>", w.out.Text())
	}
	if err := w.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	ns, err := strconv.ParseInt(maxNs, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(ns)
}
