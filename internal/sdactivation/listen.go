package sdactivation

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The variables of the socket activation protocol (sd_listen_fds(3)).
const (
	envPID     = "LISTEN_PID"
	envFDs     = "LISTEN_FDS"
	envFDNames = "LISTEN_FDNAMES"
	// firstFD is SD_LISTEN_FDS_START: the passed descriptors are 3, 4, ...
	firstFD = 3
	// maxFDs bounds what a malformed LISTEN_FDS can make us touch.
	maxFDs = 1024
)

// inherited is a descriptor passed by the service manager.
type inherited struct {
	fd   int
	name string // from LISTEN_FDNAMES; "" if not given
}

// listenFDs returns the descriptors passed to this process, and whether
// the variables were meant for it. It marks them close-on-exec (programs
// the collector may start must not hold our FIFOs and sockets) and unsets
// the variables, so that a child never takes them for its own. The
// descriptors themselves stay with the process-wide registry, which is
// what lets an in-process reload find them again after the variables are
// gone.
func listenFDs(getenv func(string) string, pid int) ([]inherited, bool) {
	defer func() {
		for _, k := range []string{envPID, envFDs, envFDNames} {
			_ = os.Unsetenv(k)
		}
	}()
	p, err := strconv.Atoi(getenv(envPID))
	if err != nil || p != pid {
		return nil, false
	}
	n, err := strconv.Atoi(getenv(envFDs))
	if err != nil || n <= 0 || n > maxFDs {
		return nil, false
	}
	var names []string
	if s := getenv(envFDNames); s != "" {
		names = strings.Split(s, ":")
	}
	out := make([]inherited, 0, n)
	for i := range n {
		fd := firstFD + i
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			continue // not open: nothing to keep
		}
		unix.CloseOnExec(fd)
		in := inherited{fd: fd}
		if i < len(names) {
			in.name = names[i]
		}
		out = append(out, in)
	}
	return out, true
}
