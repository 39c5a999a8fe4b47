package fileperm

import (
	"fmt"
	"os"
	"strconv"
)

// Mode parses the octal permission of a file, FIFO or socket, such as
// "0640": 0 to 0777 (see the package doc for why no special bits).
func Mode(s string) (os.FileMode, error) {
	m, err := parseOctal(s)
	if err != nil {
		return 0, err
	}
	if m&^0o777 != 0 {
		return 0, fmt.Errorf("%q sets setuid, setgid or sticky bits, which mean nothing on a log file, FIFO or socket; write the permission bits only, e.g. \"%04o\"", s, m&0o777)
	}
	return os.FileMode(m), nil
}

// DirMode parses the octal mode of a directory, such as "0750" or "2750":
// the permission bits, setgid (2000) and sticky (1000). It returns the
// bits as chmod(2) takes them (os.FileMode spells setgid and sticky
// otherwise).
func DirMode(s string) (uint32, error) {
	m, err := parseOctal(s)
	if err != nil {
		return 0, err
	}
	if m&0o4000 != 0 {
		return 0, fmt.Errorf("%q sets setuid, which means nothing on a directory; write e.g. \"%04o\" (setgid 2000 and sticky 1000 are allowed)", s, m&0o3777)
	}
	return m, nil
}

func parseOctal(s string) (uint32, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("%q is not an octal mode: write it quoted, e.g. \"0640\"", s)
	}
	return uint32(m), nil
}
