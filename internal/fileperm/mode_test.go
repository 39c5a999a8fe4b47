package fileperm

import (
	"os"
	"os/user"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMode(t *testing.T) {
	for s, want := range map[string]os.FileMode{"0660": 0o660, "640": 0o640, "0": 0, "0777": 0o777} {
		got, err := Mode(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	for s, msg := range map[string]string{
		"rw-r--r--": `"rw-r--r--" is not an octal mode: write it quoted, e.g. "0640"`,
		"0888":      "is not an octal mode",
		"":          "is not an octal mode",
		"010000":    "is not an octal mode",
		"-1":        "is not an octal mode",
		// Special bits on a file: refused, saying what to write instead.
		"4755": `"4755" sets setuid, setgid or sticky bits, which mean nothing on a log file, FIFO or socket; write the permission bits only, e.g. "0755"`,
		"2640": `e.g. "0640"`,
		"1666": `e.g. "0666"`,
	} {
		_, err := Mode(s)
		assert.ErrorContains(t, err, msg, s)
	}
}

func TestDirMode(t *testing.T) {
	for s, want := range map[string]uint32{"0750": 0o750, "2750": 0o2750, "1777": 0o1777, "3770": 0o3770} {
		got, err := DirMode(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	_, err := DirMode("4750")
	require.ErrorContains(t, err, `"4750" sets setuid, which means nothing on a directory; write e.g. "0750"`)
	_, err = DirMode("6750")
	require.ErrorContains(t, err, `write e.g. "2750"`)
	_, err = DirMode("drwx")
	assert.ErrorContains(t, err, "is not an octal mode")
}

func TestUserAndGroupID(t *testing.T) {
	id, err := UserID("")
	require.NoError(t, err)
	assert.Equal(t, -1, id, "empty leaves the owner as it is")
	id, err = GroupID("")
	require.NoError(t, err)
	assert.Equal(t, -1, id)

	id, err = UserID("65534")
	require.NoError(t, err)
	assert.Equal(t, 65534, id, "a number is the id itself, known or not")

	me, err := user.Current()
	require.NoError(t, err)
	id, err = UserID(me.Username)
	require.NoError(t, err)
	assert.Equal(t, me.Uid, strconv.Itoa(id))
	if g, err := user.LookupGroupId(me.Gid); err == nil {
		id, err = GroupID(g.Name)
		require.NoError(t, err)
		assert.Equal(t, me.Gid, strconv.Itoa(id))
	}

	_, err = UserID("no-such-user-logx")
	require.ErrorContains(t, err, `owner "no-such-user-logx"`)
	_, err = GroupID("no-such-group-logx")
	require.ErrorContains(t, err, `group "no-such-group-logx"`)
	_, err = UserID("-5")
	assert.Error(t, err, "a negative number is no id (it is looked up as a name)")
}
