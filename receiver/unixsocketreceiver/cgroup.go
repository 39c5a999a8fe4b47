package unixsocketreceiver

import (
	"bufio"
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// units is the systemd identity of a process, from its cgroup.
type units struct {
	// system is the unit of the system manager the process belongs to,
	// e.g. "nginx.service", "session-3.scope", or "user@1000.service" for
	// everything a user's own service manager runs.
	system string
	// user is the unit of the user's service manager, e.g. "app.service",
	// when system is a user@<uid>.service; its name is the user's choice.
	user string
}

// unitsOfCgroup reads the units from a cgroup path as systemd does for the
// journal (cg_path_get_unit, cg_path_get_user_unit): the system unit is
// the first component that is not a slice; only when that is a user
// manager (user@<uid>.service) is the next non-slice component inside it
// the user unit. Nothing below a unit counts: a unit with delegation
// (user@.service, containers) may make any cgroups under its own, with any
// names, e.g. ".../user@1000.service/app.slice/sshd.service" is a user's
// unit named like sshd, and is user@1000.service here.
func unitsOfCgroup(path string) units {
	rest := strings.Split(path, "/")
	system, rest := firstUnit(rest)
	if system == "" {
		return units{}
	}
	u := units{system: system}
	if strings.HasPrefix(system, "user@") && strings.HasSuffix(system, ".service") {
		u.user, _ = firstUnit(rest)
	}
	return u
}

// firstUnit skips empty components and slices and returns the next
// component if it is a unit processes run in (a service or a scope), and
// the components after it.
func firstUnit(components []string) (string, []string) {
	for i, c := range components {
		switch {
		case c == "" || strings.HasSuffix(c, ".slice"):
			continue
		case isUnitName(c, ".service") || isUnitName(c, ".scope"):
			return c, components[i+1:]
		default:
			return "", nil // a cgroup systemd did not make: no unit
		}
	}
	return "", nil
}

func isUnitName(c, suffix string) bool {
	return len(c) > len(suffix) && strings.HasSuffix(c, suffix)
}

// cgroupOfPID returns the cgroup path of a process from
// /proc/<pid>/cgroup: the unified hierarchy's ("0::") when it names a
// unit, else the named systemd hierarchy's (cgroup v1 and hybrid hosts).
func cgroupOfPID(pid int32) (string, bool) {
	return cgroupFromFile("/proc/" + strconv.Itoa(int(pid)) + "/cgroup")
}

func cgroupFromFile(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close() //nolint:errcheck // opened for reading
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 64*1024)
	unified, named := "", ""
	hasUnified, hasNamed := false, false
	for sc.Scan() {
		// "hierarchy-ID:controllers:path"
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			unified, hasUnified = parts[2], true
		case parts[1] == "name=systemd":
			named, hasNamed = parts[2], true
		}
	}
	if sc.Err() != nil {
		return "", false
	}
	if hasUnified && (unitsOfCgroup(unified).system != "" || !hasNamed) {
		return unified, true
	}
	return named, hasNamed
}

// cgroup2Mount is where the unified cgroup hierarchy is mounted, "" if it
// is not: /sys/fs/cgroup (v2 hosts) or /sys/fs/cgroup/unified (hybrid).
var cgroup2Mount = sync.OnceValue(func() string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close() //nolint:errcheck // opened for reading
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "id parent major:minor root mountpoint options... - fstype source super"
		fields := strings.Fields(sc.Text())
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 && fields[3] == "/" {
				return fields[4]
			}
		}
	}
	return ""
})

// fileidKernfs is the file handle type of kernfs (cgroupfs) files: the
// 64-bit cgroup id, which is what the kernel reports as a cgroup's id.
const fileidKernfs = 0xfe

// cgroupByID returns the path of the cgroup with this id in the unified
// hierarchy, the way the kernel names it to the process it holds even
// after that process is gone. It opens the cgroup's directory by handle,
// which needs CAP_DAC_READ_SEARCH, and fails when the cgroup was removed.
func cgroupByID(id uint64) (string, bool) {
	mount := cgroup2Mount()
	if mount == "" || id == 0 {
		return "", false
	}
	mfd, err := unix.Open(mount, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", false
	}
	defer unix.Close(mfd)
	handle := make([]byte, 8)
	binary.NativeEndian.PutUint64(handle, id)
	fd, err := unix.OpenByHandleAt(mfd, unix.NewFileHandle(fileidKernfs, handle), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return "", false
	}
	defer unix.Close(fd)
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil || !strings.HasPrefix(p, mount) {
		return "", false
	}
	p = strings.TrimPrefix(p, mount)
	if p == "" {
		p = "/"
	}
	return p, true
}
