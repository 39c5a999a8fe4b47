package sdnotifyextension

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// sendTimeout bounds one notification: a datagram to a service manager
// whose queue is full would otherwise wait, and the caller may be the
// collector's shutdown path.
const sendTimeout = time.Second

// sendError tells a failed write from a failed dial, for the failure counter.
type sendError struct {
	reason string // "dial" or "write"
	err    error
}

func (e *sendError) Error() string { return e.reason + ": " + e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// notifySocket is the service manager's notification socket: a unix
// datagram socket named by $NOTIFY_SOCKET, a path or, with a leading '@',
// a name in the abstract namespace (the Go runtime maps '@' to the
// leading NUL byte the kernel expects).
type notifySocket struct {
	addr *net.UnixAddr
}

// notifySocketFromEnv returns the socket $NOTIFY_SOCKET names, nil if it is
// unset (not run by systemd, or a unit that is not Type=notify).
func notifySocketFromEnv() (*notifySocket, error) {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil, nil
	}
	if name[0] != '/' && name[0] != '@' {
		return nil, fmt.Errorf("NOTIFY_SOCKET=%q is neither an absolute path nor an abstract socket name (@...); no notifications will be sent", name)
	}
	return &notifySocket{addr: &net.UnixAddr{Name: name, Net: "unixgram"}}, nil
}

// send writes one notification, lines of VAR=value. A fresh socket per
// message, as sd_notify(3) does: a connection kept open would point at the
// old socket after the service manager re-executes itself.
func (s *notifySocket) send(msg string) error {
	conn, err := net.DialUnix("unixgram", nil, s.addr)
	if err != nil {
		return &sendError{reason: "dial", err: err}
	}
	defer conn.Close() //nolint:errcheck // datagram socket: the write's error is the one that tells
	if err := conn.SetWriteDeadline(time.Now().Add(sendTimeout)); err != nil {
		return &sendError{reason: "write", err: err}
	}
	if _, err := conn.Write([]byte(msg)); err != nil {
		return &sendError{reason: "write", err: err}
	}
	return nil
}

// failureReason is the "reason" attribute of a failed send.
func failureReason(err error) string {
	var se *sendError
	if errors.As(err, &se) {
		return se.reason
	}
	return "write"
}

// watchdogFromEnv returns the watchdog interval systemd expects pings
// within ($WATCHDOG_USEC), or 0 when there is no watchdog for this process
// (unset, or $WATCHDOG_PID names another process: the variables were
// inherited from a parent that had the watchdog).
func watchdogFromEnv() (time.Duration, error) {
	usec := os.Getenv("WATCHDOG_USEC")
	if usec == "" {
		return 0, nil
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" {
		p, err := strconv.Atoi(strings.TrimSpace(pid))
		if err != nil {
			return 0, fmt.Errorf("WATCHDOG_PID=%q is not a process id; not sending watchdog pings", pid)
		}
		if p != os.Getpid() {
			return 0, nil
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(usec), 10, 63)
	if err != nil || n == 0 || n > math.MaxInt64/uint64(time.Microsecond) {
		return 0, fmt.Errorf("WATCHDOG_USEC=%q is not a positive number of microseconds; not sending watchdog pings", usec)
	}
	return time.Duration(n) * time.Microsecond, nil
}
