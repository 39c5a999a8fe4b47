package fileperm

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestOpenNoFollowRefusesSymlink: a symbolic link is refused with an error
// that says so, even when it points to a file of the wanted type.
func TestOpenNoFollowRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "real.fifo")
	require.NoError(t, unix.Mkfifo(fifo, 0o600))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(fifo, link))
	_, err := OpenNoFollow(link, unix.S_IFIFO)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is a symbolic link: refused")

	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = OpenNoFollow(file, unix.S_IFIFO)
	require.ErrorContains(t, err, "is not a FIFO")

	fd, err := OpenNoFollow(fifo, unix.S_IFIFO)
	require.NoError(t, err)
	require.NoError(t, unix.Close(fd))
}

// TestApplyOwnershipFdChangesOnlyTheOpenedFile: mode, owner and group go
// on the file the descriptor was opened on, here a socket file: a
// symbolic link put at its path afterwards, and the link's target, are
// not touched. As root it gives the file to nobody; any other user may
// only name its own ids, which still goes through the fchown.
func TestApplyOwnershipFdChangesOnlyTheOpenedFile(t *testing.T) {
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		uid, gid = 65534, 65534
	}
	dir, err := os.MkdirTemp("/tmp", "perm") // short: a socket path is at most 107 bytes
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer l.Close()
	fd, err := OpenNoFollow(sock, unix.S_IFSOCK)
	require.NoError(t, err)
	defer unix.Close(fd)

	// Swapped after the open: the socket is moved away, a link put there.
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, nil, 0o600))
	moved := filepath.Join(dir, "moved.sock")
	require.NoError(t, os.Rename(sock, moved))
	require.NoError(t, os.Symlink(target, sock))

	require.NoError(t, ApplyOwnershipFd(fd, 0o620, strconv.Itoa(uid), strconv.Itoa(gid)))
	var st unix.Stat_t
	require.NoError(t, unix.Lstat(moved, &st))
	assert.Equal(t, uint32(0o620), st.Mode&0o777)
	assert.Equal(t, uint32(uid), st.Uid)
	assert.Equal(t, uint32(gid), st.Gid)
	require.NoError(t, unix.Stat(target, &st))
	assert.Equal(t, uint32(0o600), st.Mode&0o777, "the link's target is not changed")
	assert.Equal(t, uint32(os.Getuid()), st.Uid, "nor its owner")
}

func TestApplyOwnershipFdUnknownOwner(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(p, nil, 0o600))
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	assert.ErrorContains(t, ApplyOwnershipFd(fd, 0o640, "no-such-user-logx", ""), `owner "no-such-user-logx"`)
}
