package sdactivation

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// childEnv makes the test binary act as a collector started by systemd
// (see TestMain): it checks what it inherited and prints one line per
// check, "ok ..." or "FAIL ...".
const childEnv = "LOGX_SDACTIVATION_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(runChild(dir))
	}
	// No goroutine may outlive the test that started it, but the one that
	// closes parked sockets at exit: it lives as long as the process.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/otelcol-logx/otelcol-logx/internal/sdactivation.closeParkedOnExit"))
}

func runChild(dir string) int {
	check := func(ok bool, what string) {
		if ok {
			fmt.Println("ok", what)
		} else {
			fmt.Println("FAIL", what)
		}
	}
	fifo, stream, dgram := filepath.Join(dir, "app.fifo"), filepath.Join(dir, "log.sock"), filepath.Join(dir, "dev-log")
	want := os.Getenv("WANT") // "inherit" or "none"
	h := Acquire(FIFO, fifo)
	for _, k := range []string{envPID, envFDs, envFDNames} {
		_, set := os.LookupEnv(k)
		check(!set, k+" unset")
	}
	if want == "none" {
		check(h == nil, "nothing taken when LISTEN_PID is another process")
		return 0
	}
	check(h != nil && h.Inherited() && h.e.name == "app", "fifo matched by path, with its name")
	for fd := firstFD; fd < firstFD+3; fd++ {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		check(err == nil && fl&unix.FD_CLOEXEC != 0, fmt.Sprintf("fd %d close-on-exec", fd))
	}
	if h != nil {
		f, err := h.File()
		check(err == nil, "fifo duplicated")
		if err == nil {
			line, err := bufio.NewReader(f).ReadString('\n')
			check(err == nil && line == "written before the start\n", "what the holder wrote before the start is read")
			f.Close()
		}
		check(Acquire(FIFO, fifo) == nil, "a descriptor in use is not handed out twice")
		h.Release()
		again := Acquire(FIFO, fifo)
		check(again != nil && again.e == h.e, "released, it is found again (in-process reload)")
	}
	check(Acquire(Stream, dgram) == nil, "a datagram socket is not taken for a stream one")
	check(Acquire(Stream, filepath.Join(dir, "other.sock")) == nil, "another path is not matched")
	s := Acquire(Stream, stream)
	check(s != nil && s.e.name == "log", "stream socket matched by its bound path")
	if s != nil {
		f, _ := s.File()
		l, err := net.FileListener(f)
		check(err == nil, "stream socket usable as a listener")
		if err == nil {
			c, err := l.Accept() // the holder connected before the start: it waited in the backlog
			check(err == nil, "a connection made before the start is accepted")
			if err == nil {
				line, _ := bufio.NewReader(c).ReadString('\n')
				check(line == "queued\n", "its line is read")
				c.Close()
			}
			l.Close()
		}
		f.Close()
	}
	check(Acquire(Datagram, dgram) != nil, "datagram socket matched")
	return 0
}

// holder plays the service manager: it makes the FIFO and sockets and
// keeps them.
type holder struct {
	dir                 string
	fifo, stream, dgram *os.File
}

func newHolder(t *testing.T) *holder {
	dir, err := os.MkdirTemp("/tmp", "sda") // short: socket paths are at most 107 bytes
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	h := &holder{dir: dir}
	require.NoError(t, unix.Mkfifo(filepath.Join(dir, "app.fifo"), 0o600))
	h.fifo, err = os.OpenFile(filepath.Join(dir, "app.fifo"), os.O_RDWR, 0)
	require.NoError(t, err)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "log.sock"), Net: "unix"})
	require.NoError(t, err)
	h.stream, err = l.File()
	require.NoError(t, err)
	d, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "dev-log"), Net: "unixgram"})
	require.NoError(t, err)
	h.dgram, err = d.File()
	require.NoError(t, err)
	t.Cleanup(func() { l.Close(); d.Close(); h.fifo.Close(); h.stream.Close(); h.dgram.Close() })
	return h
}

// start runs the test binary as systemd would start the collector: the
// descriptors at 3, 4, 5 and LISTEN_PID set to the child's own pid (the
// shell sets it to $$ and execs, keeping the pid).
func (h *holder) start(t *testing.T, pid string, want string) string {
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=`+pid+` exec "$0" "$@"`, os.Args[0], "-test.run=^$")
	cmd.ExtraFiles = []*os.File{h.fifo, h.stream, h.dgram}
	cmd.Env = append(os.Environ(), childEnv+"="+h.dir, "WANT="+want, "LISTEN_FDS=3", "LISTEN_FDNAMES=app:log:dev-log")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return string(out)
}

func TestInheritedDescriptors(t *testing.T) {
	h := newHolder(t)
	_, err := h.fifo.Write([]byte("written before the start\n"))
	require.NoError(t, err)
	c, err := net.Dial("unix", filepath.Join(h.dir, "log.sock"))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("queued\n"))
	require.NoError(t, err)

	out := h.start(t, "$$", "inherit")
	assert.NotContains(t, out, "FAIL")
	assert.Equal(t, 18, strings.Count(out, "ok "), out)
}

func TestListenPIDOfAnotherProcess(t *testing.T) {
	h := newHolder(t)
	out := h.start(t, "1", "none")
	assert.NotContains(t, out, "FAIL")
	assert.Equal(t, 4, strings.Count(out, "ok "), out)
}

// TestParkedOwnDescriptor: a descriptor a receiver made is found again
// after its release, and closed (its cleanup run) once parked too long;
// one whose path was made again meanwhile is not handed out.
func TestParkedOwnDescriptor(t *testing.T) {
	defer SetParkFor(time.Hour)()
	dir := t.TempDir()
	path := filepath.Join(dir, "own.fifo")
	require.NoError(t, unix.Mkfifo(path, 0o600))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	cleaned := make(chan struct{})
	h, err := Keep(FIFO, path, f, func() { close(cleaned) })
	require.NoError(t, err)
	assert.Nil(t, Acquire(FIFO, path), "in use")
	h.Release()
	h2 := Acquire(FIFO, path)
	require.NotNil(t, h2)
	assert.False(t, h2.Inherited())

	// The path made again: the parked pipe is no longer what writers reach.
	h2.Release()
	require.NoError(t, os.Remove(path))
	require.NoError(t, unix.Mkfifo(path, 0o600))
	assert.Nil(t, Acquire(FIFO, path))
	select {
	case <-cleaned:
	case <-time.After(10 * time.Second):
		t.Fatal("the stale parked descriptor was not closed")
	}

	// Parked too long: closed.
	g, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer g.Close()
	expired := make(chan struct{})
	h3, err := Keep(FIFO, path, g, func() { close(expired) })
	require.NoError(t, err)
	SetParkFor(10 * time.Millisecond)
	h3.Release()
	select {
	case <-expired:
	case <-time.After(10 * time.Second):
		t.Fatal("the parked descriptor was not closed after ParkFor")
	}
	assert.Nil(t, Acquire(FIFO, path))
}

// TestStopClosesParked: once the process is told to stop, parked own
// descriptors are closed at once (a stop removes the socket files it
// made), and so is one released afterwards.
func TestStopClosesParked(t *testing.T) {
	defer SetParkFor(time.Hour)()
	defer func() { reg.mu.Lock(); reg.exiting = false; reg.mu.Unlock() }()
	dir := t.TempDir()
	var cleaned [2]chan struct{}
	var handles [2]*Handle
	for i := range 2 {
		path := filepath.Join(dir, fmt.Sprintf("p%d.fifo", i))
		require.NoError(t, unix.Mkfifo(path, 0o600))
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		require.NoError(t, err)
		defer f.Close()
		cleaned[i] = make(chan struct{})
		c := cleaned[i]
		handles[i], err = Keep(FIFO, path, f, func() { close(c) })
		require.NoError(t, err)
	}
	handles[0].Release() // parked for an hour
	closeParked()        // what SIGTERM triggers
	select {
	case <-cleaned[0]:
	case <-time.After(10 * time.Second):
		t.Fatal("a parked descriptor outlived the stop")
	}
	handles[1].Release()
	select {
	case <-cleaned[1]:
	default:
		t.Fatal("a descriptor released after the stop was parked")
	}
}
