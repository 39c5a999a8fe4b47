package components

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The version is written in three places a release touches by hand: the
// collector's own (--version, builder-config.yaml comes from it), the top
// of CHANGELOG.md and the top of the Debian changelog, which names the
// .deb. A release that bumps one and forgets another ships a package whose
// version says something else than its binary.
func TestVersionsAgree(t *testing.T) {
	changelog := firstMatch(t, "../CHANGELOG.md", regexp.MustCompile(`^## (\S+)`))
	assert.Equal(t, Version, changelog, "the top heading of CHANGELOG.md")

	debian := firstMatch(t, "../distribution/package/changelog", regexp.MustCompile(`^otelcol-logx \((\S+)\)`))
	assert.Equal(t, debianVersion(Version), debian, "the top entry of distribution/package/changelog")
}

func TestDebianSpellingOfVersion(t *testing.T) {
	assert.Equal(t, "0.1.0~dev-1", debianVersion("0.1.0-dev"))
	assert.Equal(t, "1.2.3-1", debianVersion("1.2.3"))
}

// debianVersion spells a collector version the way the .deb does: a
// pre-release sorts before its release only with `~`, and the Debian
// revision of our own packaging is 1.
func debianVersion(v string) string {
	return strings.ReplaceAll(v, "-", "~") + "-1"
}

func firstMatch(t *testing.T, path string, re *regexp.Regexp) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if m := re.FindStringSubmatch(s.Text()); m != nil {
			return m[1]
		}
	}
	require.NoError(t, s.Err())
	t.Fatalf("%s: no line matches %s", path, re)
	return ""
}
