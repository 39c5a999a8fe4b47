package unixsocketreceiver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The test binary doubles as a separate writer process: for the refusing-consumer
// test (see testutil.RunWriterProcess), a program that writes to the unix
// stream socket ~8 KiB at a time; and, with childEnv set, one of the small
// writers of runChild.
//
// runAsWriterChild makes it one when the test that started it asked for
// one (it then exits); the generated TestMain calls it first (metadata.yaml
// tests.goleak.setup).
func runAsWriterChild() {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	testutil.RunWriterProcess(func(path string) (io.WriteCloser, error) {
		return net.Dial("unix", path)
	}, 8192)
}

// childEnv tells the test binary to be a writer: "<mode>\x1f<path>\x1f<message>".
const childEnv = "LOGX_UNIXSOCKET_TEST_CHILD"

// Writer modes of the child process.
const (
	// childWrite connects to a stream socket, writes the message and exits.
	childWrite = "write"
	// childHold makes <message> connections to a stream socket, says
	// "connected" on stdout, then, until its stdin closes, says "closed <i>"
	// when the receiver closes connection i (counting from 0).
	childHold = "hold"
	// childDatagram sends the message as one datagram, says "sent" on
	// stdout and exits when its stdin closes.
	childDatagram = "datagram"
	// childDatagramExit sends the message as one datagram and exits.
	childDatagramExit = "datagram-exit"
	// childDatagramRate sends one line per datagram at "<lines/s>,<ms>"
	// (testutil.WriteAtRate) and says "sent <lines> <longest send in ns>".
	childDatagramRate = "datagram-rate"
	// childStreamRate does the same with one write(2) per line on a
	// stream connection.
	childStreamRate = "stream-rate"
)

func runChild(spec string) int {
	parts := strings.SplitN(spec, "\x1f", 3)
	if len(parts) != 3 {
		fmt.Fprintln(os.Stderr, "bad child spec")
		return 2
	}
	mode, path, msg := parts[0], parts[1], parts[2]
	network := "unix"
	if mode == childDatagram || mode == childDatagramExit {
		network = "unixgram"
	}
	if mode == childHold {
		return holdConnections(path, msg)
	}
	if mode == childDatagramRate || mode == childStreamRate {
		return sendAtRate(mode, path, msg)
	}
	c, err := net.Dial(network, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := c.Write([]byte(msg)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if mode == childDatagram {
		fmt.Println("sent")
		_, _ = io.Copy(io.Discard, os.Stdin)
	}
	return 0
}

func sendAtRate(mode, path, spec string) int {
	var rate, ms int
	if _, err := fmt.Sscanf(spec, "%d,%d", &rate, &ms); err != nil {
		return 2
	}
	network := "unixgram"
	if mode == childStreamRate {
		network = "unix"
	}
	c, err := net.Dial(network, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	res, err := testutil.WriteAtRate(rate, time.Duration(ms)*time.Millisecond, func(line []byte) error {
		_, err := c.Write(line)
		return err
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("sent %d %d\n", res.Lines, res.MaxBlock.Nanoseconds())
	return 0
}

func holdConnections(path, count string) int {
	n, err := strconv.Atoi(count)
	if err != nil {
		return 2
	}
	// Dial every connection first and say so, then watch them: a
	// connection the receiver refuses is closed at once, and its "closed"
	// must come after "connected", which tells the test the dialing is over.
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("unix", path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		conns = append(conns, c)
	}
	fmt.Println("connected")
	var mu sync.Mutex
	for i, c := range conns {
		go func() {
			_, err := c.Read(make([]byte, 1))
			if err == io.EOF {
				mu.Lock()
				fmt.Printf("closed %d\n", i)
				mu.Unlock()
			}
		}()
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// child is a writer process started from the test binary.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

// childOptions place the child: as another user, in a cgroup.
type childOptions struct {
	uid      *uint32
	cgroupFD int // a cgroup v2 directory to start in, or -1
}

// startChild starts the test binary as a writer.
func startChild(t testing.TB, opts childOptions, mode, path, msg string) *child {
	t.Helper()
	bin := os.Args[0]
	if opts.uid != nil {
		bin = executableBy(t, *opts.uid)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), childEnv+"="+mode+"\x1f"+path+"\x1f"+msg)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if opts.uid != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: *opts.uid, Gid: *opts.uid}
	}
	if opts.cgroupFD >= 0 {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = opts.cgroupFD
	}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		_ = c.stdin.Close()
		_ = c.cmd.Wait()
	})
	return c
}

// line reads the child's next line on stdout (blocking: the child either
// says it or exits, which ends the read).
func (c *child) line(t testing.TB) string {
	t.Helper()
	s, err := c.stdout.ReadString('\n')
	require.NoError(t, err, "the child ended without saying it")
	return strings.TrimSuffix(s, "\n")
}

// wait waits for the child to exit (and be reaped), successfully.
func (c *child) wait(t testing.TB) {
	t.Helper()
	_ = c.stdin.Close()
	require.NoError(t, c.cmd.Wait())
}

// executableBy copies the test binary where uid may run it (the build
// directory is private to its owner).
func executableBy(t testing.TB, uid uint32) string {
	t.Helper()
	dir := shortDir(t)
	require.NoError(t, os.Chmod(dir, 0o755))
	dst := filepath.Join(dir, "writer")
	src, err := os.Open(os.Args[0])
	require.NoError(t, err)
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(out, src)
	require.NoError(t, err)
	require.NoError(t, out.Close())
	return dst
}
