//go:build resilience

package resilience

import (
	"bufio"
	"bytes"
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

	"golang.org/x/sys/unix"
)

// This file is the cutover test's stand-in for systemd: there is no
// systemd PID 1 here, so the test answers the cutover script's systemctl
// calls itself. A shell stub named by $SYSTEMCTL hands each call over a
// unix socket (socat) to fakeSystemd, which does for each unit what systemd
// does for it, as far as the cutover depends on it:
//
//   - otelcol-logx-fifo.socket and otelcol-logx.socket: read from the real unit files
//     (distribution/systemd), with /run/otelcol-logx and the script's path
//     mapped into the test directory. Its ExecStartPre= runs (the script's
//     adopt-fifo), then the FIFO is made or opened exactly as systemd's
//     ListenFIFO= does: refused unless owned by root with exactly
//     SocketMode=; then PipeSize=, and SocketUser=/SocketGroup= (mapped to
//     the test's service user). The stream socket's path is unlinked and
//     bound anew, as systemd does when something (syslog-ng) is there.
//   - otelcol-logx.service: the built collector as the service user, given
//     the socket units' descriptors (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES)
//     and a NOTIFY_SOCKET; `start` returns once READY=1 arrives, fails if the
//     collector exits first, as for Type=notify.
//   - syslog-ng.service: syslog-ng as root (as Debian runs it). Outside
//     systemd it does not notify, so `start` returns once it holds the
//     FIFO open (read from /proc).
//   - enable/disable are recorded; is-active, stop and restart as systemd;
//     show -p Listen --value from the unit file.

// cutoverUnitDir is where the units and the script live in the repository.
const cutoverUnitDir = "../../distribution/systemd"

// sdUnit is one unit of the fake systemd.
type sdUnit struct {
	proc    *exec.Cmd
	done    chan struct{}
	fifo    *os.File      // socket units: the held FIFO or listening socket
	notify  *net.UnixConn // the service's NOTIFY_SOCKET, open while it runs
	stopped bool
}

func (u *sdUnit) active() bool {
	if u == nil {
		return false
	}
	if u.fifo != nil {
		return true
	}
	if u.proc == nil {
		return false
	}
	select {
	case <-u.done:
		return false
	default:
		return true
	}
}

// fakeSystemd plays systemd for the cutover script.
type fakeSystemd struct {
	t         *testing.T
	dir       string // the test's root: run/, state/, ...
	logxBin   string
	logxCfg   string
	syslogCfg string
	svcUID    int
	svcGID    int
	ctl       net.Listener
	stub      string // the systemctl stand-in

	mu      sync.Mutex
	units   map[string]*sdUnit
	enabled map[string]bool
	events  []string // "start X", "ready X", "stop X", "enable X", ...
	logs    bytes.Buffer
}

func newFakeSystemd(t *testing.T, dir, logxBin, logxCfg, syslogCfg string, uid, gid int) *fakeSystemd {
	t.Helper()
	ctlPath := filepath.Join(dir, "systemctl.sock")
	l, err := net.Listen("unix", ctlPath)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSystemd{t: t, dir: dir, logxBin: logxBin, logxCfg: logxCfg, syslogCfg: syslogCfg,
		svcUID: uid, svcGID: gid, ctl: l, units: map[string]*sdUnit{}, enabled: map[string]bool{}}
	// The stub: arguments one per line; the answer is the exit code on
	// the first line, then what systemctl would print.
	f.stub = filepath.Join(dir, "systemctl")
	stub := fmt.Sprintf(`#!/bin/sh
resp=$(printf '%%s\n' "$@" | socat -t 300 -T 300 - UNIX-CONNECT:%s) || exit 1
if [ "$1" = show ]; then
	printf '%%s\n' "$resp" | tail -n +2
else
	printf '%%s\n' "$resp" | tail -n +2 >&2
fi
exit "$(printf '%%s\n' "$resp" | head -n 1)"
`, ctlPath)
	if err := os.WriteFile(f.stub, []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	go f.serve()
	t.Cleanup(func() {
		l.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for name, u := range f.units {
			f.stopLocked(name, u)
		}
		if t.Failed() {
			processLogs.Lock()
			t.Logf("fake systemd events: %q\nlogs:\n%s", f.events, tail(f.logs.Bytes(), 6000))
			processLogs.Unlock()
		}
	})
	return f
}

func (f *fakeSystemd) serve() {
	for {
		c, err := f.ctl.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			b, _ := io.ReadAll(c)
			args := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			code, out := f.systemctl(args)
			fmt.Fprintf(c, "%d\n%s", code, out)
		}()
	}
}

func (f *fakeSystemd) event(format string, a ...any) {
	f.events = append(f.events, fmt.Sprintf(format, a...))
}

// Events returns what was done, in order.
func (f *fakeSystemd) Events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.events...)
}

// Enabled returns the units enabled at the end.
func (f *fakeSystemd) Enabled() map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]bool{}
	for k, v := range f.enabled {
		if v {
			out[k] = true
		}
	}
	return out
}

// Active reports whether a unit runs.
func (f *fakeSystemd) Active(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.units[name].active()
}

// systemctl runs one call; one at a time, as systemd's jobs for one
// transaction would.
func (f *fakeSystemd) systemctl(args []string) (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(args) == 0 {
		return 1, "no verb"
	}
	verb, names := args[0], args[1:]
	switch verb {
	case "start":
		// Socket units first, as their ordering before the service says.
		for _, n := range append(filterUnits(names, ".socket"), filterUnits(names, ".service")...) {
			if err := f.startLocked(n); err != nil {
				return 1, fmt.Sprintf("Job for %s failed: %v", n, err)
			}
		}
		return 0, ""
	case "stop":
		for _, n := range append(filterUnits(names, ".service"), filterUnits(names, ".socket")...) {
			f.stopLocked(n, f.units[n])
		}
		return 0, ""
	case "restart":
		for _, n := range names {
			f.stopLocked(n, f.units[n])
			if err := f.startLocked(n); err != nil {
				return 1, err.Error()
			}
		}
		return 0, ""
	case "is-active":
		for _, n := range names {
			if strings.HasPrefix(n, "-") {
				continue
			}
			if !f.units[n].active() {
				return 3, "inactive"
			}
		}
		return 0, "active"
	case "show":
		// Only what the script asks: show -p Listen --value UNIT.
		if len(names) != 4 || names[0] != "-p" || names[1] != "Listen" || names[2] != "--value" {
			return 1, fmt.Sprintf("fake systemd: show %q not supported", names)
		}
		st, err := f.unitSettings(names[3])
		if err != nil {
			return 1, err.Error()
		}
		var lines []string
		for _, p := range st["ListenFIFO"] {
			lines = append(lines, p+" (FIFO)")
		}
		for _, p := range st["ListenStream"] {
			lines = append(lines, p+" (Stream)")
		}
		for _, p := range st["ListenDatagram"] {
			lines = append(lines, p+" (Datagram)")
		}
		// Printed on stdout; the stub's answer after the code goes to the
		// script's stdout for this verb.
		return 0, strings.Join(lines, "\n")
	case "enable", "disable":
		for _, n := range names {
			f.enabled[n] = verb == "enable"
			f.event("%s %s", verb, n)
		}
		return 0, ""
	}
	return 1, "fake systemd: unknown verb " + verb
}

func filterUnits(names []string, suffix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, suffix) {
			out = append(out, n)
		}
	}
	return out
}

func (f *fakeSystemd) startLocked(name string) error {
	if f.units[name].active() {
		return nil
	}
	f.event("start %s", name)
	var u *sdUnit
	var err error
	switch {
	case strings.HasSuffix(name, ".socket"):
		u, err = f.startSocketUnit(name)
	case name == "otelcol-logx.service":
		u, err = f.startCollector(name)
	case name == "syslog-ng.service":
		u, err = f.startSyslogNG()
	default:
		err = fmt.Errorf("fake systemd does not know %s", name)
	}
	if err != nil {
		f.event("failed %s", name)
		return err
	}
	f.units[name] = u
	f.event("ready %s", name)
	return nil
}

func (f *fakeSystemd) stopLocked(name string, u *sdUnit) {
	if !u.active() || u.stopped {
		return
	}
	u.stopped = true
	f.event("stop %s", name)
	if u.fifo != nil {
		u.fifo.Close()
		u.fifo = nil
		return
	}
	if u.notify != nil {
		defer u.notify.Close()
	}
	_ = u.proc.Process.Signal(syscall.SIGTERM)
	select {
	case <-u.done:
	case <-time.After(30 * time.Second):
		_ = u.proc.Process.Kill()
		<-u.done
		f.event("killed %s", name)
	}
}

// unitSettings reads Key=Value lines of a unit file, with the paths of the
// installed system mapped into the test directory.
func (f *fakeSystemd) unitSettings(name string) (map[string][]string, error) {
	b, err := os.ReadFile(filepath.Join(cutoverUnitDir, name))
	if err != nil {
		return nil, err
	}
	script, err := filepath.Abs(filepath.Join(cutoverUnitDir, "cutover"))
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v = strings.ReplaceAll(v, "/run/otelcol-logx", filepath.Join(f.dir, "run"))
		v = strings.ReplaceAll(v, "/usr/lib/otelcol-logx/cutover", script)
		out[k] = append(out[k], v)
	}
	return out, nil
}

// startSocketUnit does what systemd does for a unit with one ListenFIFO=
// or one ListenStream= (a path).
func (f *fakeSystemd) startSocketUnit(name string) (*sdUnit, error) {
	s, err := f.unitSettings(name)
	if err != nil {
		return nil, err
	}
	if len(s["ListenStream"]) == 1 && len(s["ListenFIFO"]) == 0 {
		return f.startStreamSocket(name, s)
	}
	if len(s["ListenFIFO"]) != 1 || len(s["SocketMode"]) != 1 {
		return nil, fmt.Errorf("%s: want one ListenFIFO= or ListenStream=, and SocketMode=, got %q", name, s)
	}
	for _, pre := range s["ExecStartPre"] {
		out, err := exec.Command("/bin/sh", "-c", pre).CombinedOutput()
		_, _ = (&prefixWriter{buf: &f.logs, prefix: name + " ExecStartPre: "}).Write(out)
		if err != nil {
			return nil, fmt.Errorf("ExecStartPre=%s: %v", pre, err)
		}
	}
	path := s["ListenFIFO"][0]
	mode, err := strconv.ParseUint(s["SocketMode"][0], 8, 32)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	old := unix.Umask(0) // PID 1 runs with umask 0
	err = unix.Mkfifo(path, uint32(mode))
	unix.Umask(old)
	if err != nil && err != unix.EEXIST {
		return nil, err
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Mode&0o777 != uint32(mode) || st.Uid != 0 || st.Gid != 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: File exists (systemd opens only a FIFO owned by root with mode %04o; this one: uid %d gid %d mode %04o)", path, mode, st.Uid, st.Gid, st.Mode&0o777)
	}
	if len(s["PipeSize"]) == 1 {
		size := strings.TrimSuffix(s["PipeSize"][0], "M")
		n, err := strconv.Atoi(size)
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("PipeSize=%s: %v", s["PipeSize"][0], err)
		}
		if size != s["PipeSize"][0] {
			n <<= 20
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, n); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	if len(s["SocketUser"]) > 0 || len(s["SocketGroup"]) > 0 {
		if err := os.Chown(path, f.svcUID, f.svcGID); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	return &sdUnit{fifo: os.NewFile(uintptr(fd), path)}, nil
}

// startStreamSocket binds a unix stream socket as systemd does: a file
// already at the path (syslog-ng's socket) is unlinked and the path bound
// anew, with SocketMode= as the umask allows; RemoveOnStop=no leaves it.
func (f *fakeSystemd) startStreamSocket(name string, s map[string][]string) (*sdUnit, error) {
	path := s["ListenStream"][0]
	mode, err := strconv.ParseUint(strings.Join(s["SocketMode"], ""), 8, 32)
	if err != nil {
		return nil, fmt.Errorf("%s: SocketMode=%v: %v", name, s["SocketMode"], err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	_ = os.Remove(path)
	old := unix.Umask(int(^mode & 0o777))
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, err
	}
	l.SetUnlinkOnClose(false)
	file, err := l.File() // a duplicate: it stays open when l closes
	l.Close()
	if err != nil {
		return nil, err
	}
	if len(s["SocketUser"]) > 0 || len(s["SocketGroup"]) > 0 {
		if err := os.Chown(path, f.svcUID, f.svcGID); err != nil {
			file.Close()
			return nil, err
		}
	}
	return &sdUnit{fifo: file}, nil
}

// startCollector starts the collector as Type=notify with the socket
// units' descriptors, and waits for READY=1.
func (f *fakeSystemd) startCollector(name string) (*sdUnit, error) {
	notify := filepath.Join(f.dir, "notify-"+strconv.Itoa(len(f.events))+".sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(notify, 0o666); err != nil {
		conn.Close()
		return nil, err
	}
	var files []*os.File
	var names []string
	for n, u := range f.units {
		if u.fifo != nil {
			files = append(files, u.fifo)
			names = append(names, n)
		}
	}
	// The unit's own command line, with the binary and config under test.
	s, err := f.unitSettings(name)
	if err != nil || len(s["ExecStart"]) != 1 {
		conn.Close()
		return nil, fmt.Errorf("%s: want one ExecStart= (%v)", name, err)
	}
	if strings.Join(s["Type"], ",") != "notify" {
		conn.Close()
		return nil, fmt.Errorf("%s: Type=%v, but the cutover relies on Type=notify (start returns after READY=1)", name, s["Type"])
	}
	argv := strings.Fields(strings.ReplaceAll(s["ExecStart"][0], "${OTELCOL_CONFIG}", f.logxCfg))
	argv[0] = f.logxBin
	// LISTEN_PID must be the collector's pid: the shell sets it, then
	// becomes the collector.
	cmd := exec.Command("/bin/sh", append([]string{"-c", `LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"`}, argv...)...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notify, "LOGX_STATE_DIR="+filepath.Join(f.dir, "state"),
		fmt.Sprintf("LISTEN_FDS=%d", len(files)), "LISTEN_FDNAMES="+strings.Join(names, ":"))
	cmd.ExtraFiles = files
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(f.svcUID), Gid: uint32(f.svcGID)}}
	u, err := f.startProcess(cmd, "otelcol-logx")
	if err != nil {
		conn.Close()
		return nil, err
	}
	u.notify = conn
	// Type=notify: ready on READY=1; a collector that exits first failed.
	// Later notifications (WATCHDOG=1, STOPPING=1) are read and let go.
	ready := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		seen := false
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			if !seen && sdNotifyHas(string(buf[:n]), "READY=1") {
				seen = true
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
		return u, nil
	case <-u.done:
		conn.Close()
		return nil, fmt.Errorf("the collector exited before READY=1: %v", u.proc.ProcessState)
	case <-time.After(60 * time.Second): // TimeoutStartSec= of the unit
		f.stopLocked(name, u)
		return nil, fmt.Errorf("no READY=1 within 60s")
	}
}

func sdNotifyHas(msg, line string) bool {
	for _, l := range strings.Split(msg, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

// startSyslogNG runs syslog-ng as Debian's unit does, in the foreground, and
// waits until it holds the FIFO open.
func (f *fakeSystemd) startSyslogNG() (*sdUnit, error) {
	d := filepath.Join(f.dir, "syslog-ng")
	cmd := exec.Command("syslog-ng", "-F", "--no-caps", "-f", f.syslogCfg,
		"-R", filepath.Join(d, "persist"), "-p", filepath.Join(d, "pid"), "-c", filepath.Join(d, "ctl"))
	u, err := f.startProcess(cmd, "syslog-ng")
	if err != nil {
		return nil, err
	}
	fifo := filepath.Join(f.dir, "run", "apps.fifo")
	deadline := time.Now().Add(30 * time.Second)
	for !holdsOpen(u.proc.Process.Pid, fifo) {
		select {
		case <-u.done:
			return nil, fmt.Errorf("syslog-ng exited: %v", u.proc.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			f.stopLocked("syslog-ng.service", u)
			return nil, fmt.Errorf("syslog-ng did not open %s within 30s", fifo)
		}
		time.Sleep(10 * time.Millisecond) // polling /proc: nothing to wait on
	}
	return u, nil
}

func (f *fakeSystemd) startProcess(cmd *exec.Cmd, name string) (*sdUnit, error) {
	w := &prefixWriter{buf: &f.logs, prefix: name + ": "}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	u := &sdUnit{proc: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(u.done)
	}()
	return u, nil
}

// prefixWriter collects a process's output for the failure log. The fake
// systemd's lock is held while units start and stop, so the buffer has a
// lock of its own, processLogs.
type prefixWriter struct {
	buf    *bytes.Buffer
	prefix string
}

var processLogs sync.Mutex

func (w *prefixWriter) Write(p []byte) (int, error) {
	processLogs.Lock()
	defer processLogs.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(p))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		w.buf.WriteString(w.prefix)
		w.buf.Write(sc.Bytes())
		w.buf.WriteByte('\n')
	}
	return len(p), nil
}

// holdsOpen reports whether process pid has the file at path open.
func holdsOpen(pid int, path string) bool {
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		return false
	}
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		var st unix.Stat_t
		if unix.Stat(filepath.Join(fdDir, e.Name()), &st) == nil && st.Dev == want.Dev && st.Ino == want.Ino {
			return true
		}
	}
	return false
}
