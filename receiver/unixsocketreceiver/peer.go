package unixsocketreceiver

import (
	"bufio"
	"net"
	"os"
	"strings"
	"syscall"
)

// peerCredentials returns the writer's pid, uid and gid as the kernel saw
// them when it connected (SO_PEERCRED): unlike the syslog header, the
// writer cannot forge them.
func peerCredentials(c *net.UnixConn) (*syscall.Ucred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	return cred, credErr
}

// systemdUnit reads a /proc/<pid>/cgroup file and returns the innermost
// systemd service (else scope) unit in it, e.g. "nginx.service" from
// "0::/system.slice/nginx.service", or "" if there is none.
func systemdUnit(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 64*1024)
	unit := ""
	for sc.Scan() {
		// "hierarchy-ID:controllers:path"; prefer the unified (0::) line
		// or the name=systemd one.
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] != "0" && parts[1] != "name=systemd" {
			continue
		}
		if u := unitOfCgroup(parts[2]); u != "" {
			unit = u
		}
	}
	return unit
}

// unitOfCgroup returns the last "*.service" component of a cgroup path,
// else the last "*.scope", else "".
func unitOfCgroup(path string) string {
	service, scope := "", ""
	for _, c := range strings.Split(path, "/") {
		switch {
		case strings.HasSuffix(c, ".service"):
			service = c
		case strings.HasSuffix(c, ".scope"):
			scope = c
		}
	}
	if service != "" {
		return service
	}
	return scope
}
