package unixsocketreceiver

import (
	"encoding/binary"
	"errors"
	"strconv"

	"golang.org/x/sys/unix"
)

// peer is what the kernel says about a writer: its credentials and its
// systemd units. Nothing in it comes from what the writer sent.
type peer struct {
	hasCred  bool
	pid      int32
	uid, gid uint32
	units    units
	// unitChecked is true when the units were looked up and the answer is
	// about this very process (not one that reused its pid).
	unitChecked bool
}

// identifyStream learns who is at the other end of an accepted stream
// connection, before anything is read from it: SO_PEERCRED gives the
// credentials the writer had when it connected; SO_PEERPIDFD (Linux 6.5+)
// a pidfd of that very process, even once it has exited, and with it the
// cgroup it is or was in (identifyByPidfd). Without a pidfd the units come
// from /proc/<pid>/cgroup, read now: a writer that has already exited has
// none.
func identifyStream(fd int, wantUnits bool) (peer, error) {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return peer{}, err
	}
	p := peer{hasCred: true, pid: cred.Pid, uid: cred.Uid, gid: cred.Gid}
	if !wantUnits || p.pid <= 0 {
		return p, nil
	}
	pidfd, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PEERPIDFD)
	if err != nil {
		// Kernel before 6.5: the pid, read at once; a pid reused
		// between the connect and now would be misread.
		p.units, p.unitChecked = unitsOfPID(p.pid)
		return p, nil
	}
	defer unix.Close(pidfd)
	p.units, p.unitChecked = identifyByPidfd(pidfd, p.pid)
	return p, nil
}

// identifyByPidfd returns the units of the process a pidfd refers to.
// While the process lives, /proc/<pid>/cgroup is read, then the pidfd
// tells whether the pid still belonged to the same process after the read
// (a signal 0 to a pidfd fails once its process is gone, whatever now has
// the pid). Once it has exited, the kernel still tells the cgroup id the
// process was in (PIDFD_GET_INFO, Linux 6.15+), which resolves to a path
// while that cgroup exists (needs CAP_DAC_READ_SEARCH).
func identifyByPidfd(pidfd int, pid int32) (units, bool) {
	info := unix.PidfdInfo{Mask: unix.PIDFD_INFO_PID | unix.PIDFD_INFO_CGROUPID | unix.PIDFD_INFO_EXIT}
	infoErr := unix.IoctlPidfdInfo(pidfd, &info)
	if infoErr == nil && info.Mask&unix.PIDFD_INFO_PID != 0 && int32(info.Pid) != pid { //nolint:gosec // G115: the kernel's pid_t, sent as __u32
		return units{}, false // not the process that connected
	}
	if u, ok := unitsOfPID(pid); ok && pidfdAlive(pidfd) {
		return u, true
	}
	if infoErr == nil && info.Mask&unix.PIDFD_INFO_CGROUPID != 0 {
		if path, ok := cgroupByID(info.Cgroupid); ok {
			return unitsOfCgroup(path), true
		}
	}
	return units{}, false
}

// pidfdAlive reports whether the pidfd's process still exists: signal 0
// checks without sending; EPERM (another user's process, without
// CAP_KILL) also means it exists.
func pidfdAlive(pidfd int) bool {
	err := unix.PidfdSendSignal(pidfd, 0, nil, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// unitsOfPID reads the units of a live process by its pid.
func unitsOfPID(pid int32) (units, bool) {
	path, ok := cgroupOfPID(pid)
	if !ok {
		return units{}, false
	}
	return unitsOfCgroup(path), true
}

// identifyDatagram learns who sent a datagram from its control messages:
// SCM_CREDENTIALS (the kernel fills it in, or checks what the sender
// wrote) and, where the kernel passes it (SO_PASSPIDFD, Linux 6.5+),
// SCM_PIDFD, a pidfd of the sender that tells its cgroup race-free, even
// once it has exited (unitsOfPidfd). Without one the units come from
// /proc/<pid>/cgroup, best effort: a sender that has exited leaves its
// credentials only. Every descriptor received is closed.
func identifyDatagram(oob []byte, wantUnits bool, cache *unitCache) (peer, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return peer{}, err
	}
	var p peer
	pidfd := -1
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET {
			continue
		}
		switch msgs[i].Header.Type {
		case unix.SCM_CREDENTIALS:
			cred, err := unix.ParseUnixCredentials(&msgs[i])
			if err == nil {
				p = peer{hasCred: true, pid: cred.Pid, uid: cred.Uid, gid: cred.Gid}
			}
		case unix.SCM_PIDFD, unix.SCM_RIGHTS:
			for _, fd := range receivedFDs(&msgs[i]) {
				if msgs[i].Header.Type == unix.SCM_PIDFD && pidfd < 0 {
					pidfd = fd
				} else {
					_ = unix.Close(fd)
				}
			}
		}
	}
	if pidfd >= 0 {
		defer unix.Close(pidfd)
	}
	if !p.hasCred {
		return peer{}, errNoCredentials
	}
	if wantUnits && p.pid > 0 {
		if pidfd >= 0 {
			p.units, p.unitChecked = cache.unitsOfPidfd(pidfd, p.pid)
		} else {
			p.units, p.unitChecked = unitsOfPID(p.pid)
		}
	}
	return p, nil
}

// unitCache remembers the units of cgroups by id, for a reader that sees
// the same senders again and again (datagrams come one at a time, each
// with its pidfd): the kernel tells a pidfd's cgroup id cheaply, reading
// a path is dearer. A cgroup id is never reused while the system runs,
// and the units of a cgroup do not change (a cgroup is renamed only
// within its parent, by whoever may write it: below a unit, which does not
// count). Used by one goroutine.
type unitCache struct {
	byID map[uint64]units
}

// maxCachedCgroups bounds the cache; past it, it starts again empty.
const maxCachedCgroups = 4096

func newUnitCache() *unitCache { return &unitCache{byID: map[uint64]units{}} }

// unitsOfPidfd returns the units of the process a pidfd refers to, by its
// cgroup id (cached, or resolved by id, which needs CAP_DAC_READ_SEARCH),
// else as identifyByPidfd does.
func (c *unitCache) unitsOfPidfd(pidfd int, pid int32) (units, bool) {
	info := unix.PidfdInfo{Mask: unix.PIDFD_INFO_PID | unix.PIDFD_INFO_CGROUPID | unix.PIDFD_INFO_EXIT}
	if err := unix.IoctlPidfdInfo(pidfd, &info); err != nil || info.Mask&unix.PIDFD_INFO_CGROUPID == 0 {
		return identifyByPidfd(pidfd, pid)
	}
	if info.Mask&unix.PIDFD_INFO_PID != 0 && int32(info.Pid) != pid { //nolint:gosec // G115: the kernel's pid_t, sent as __u32
		return units{}, false // not the process that sent
	}
	if u, ok := c.byID[info.Cgroupid]; ok {
		return u, true
	}
	path, ok := cgroupByID(info.Cgroupid)
	if !ok {
		return identifyByPidfd(pidfd, pid)
	}
	if len(c.byID) >= maxCachedCgroups {
		clear(c.byID)
	}
	u := unitsOfCgroup(path)
	c.byID[info.Cgroupid] = u
	return u, true
}

// receivedFDs returns the descriptors in an SCM_RIGHTS or SCM_PIDFD
// message (both are arrays of ints).
func receivedFDs(m *unix.SocketControlMessage) []int {
	fds := make([]int, 0, len(m.Data)/4)
	for i := 0; i+4 <= len(m.Data); i += 4 {
		fds = append(fds, int(int32(binary.NativeEndian.Uint32(m.Data[i:])))) //nolint:gosec // G115: SCM_RIGHTS carries C ints: reinterpreting the bits is the conversion
	}
	return fds
}

var errNoCredentials = errors.New("no SCM_CREDENTIALS with the datagram")

// uidService is the service identity of a writer whose unit is unknown:
// its user, which the kernel vouches for, in a form no unit name has.
func uidService(uid uint32) string {
	return "uid-" + strconv.FormatUint(uint64(uid), 10)
}
