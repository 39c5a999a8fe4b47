package buffers

import (
	"encoding/hex"
	"strings"
)

// Tenant names are arbitrary strings; directory names must be safe. A name
// made only of safe characters keeps its spelling behind "n-" (readable on
// disk); any other name is hex-encoded behind "x-". The prefixes keep the
// two forms from colliding.
const maxPlainName = 100

func dirName(tenant string) string {
	if len(tenant) > 0 && len(tenant) <= maxPlainName && plainName(tenant) {
		return "n-" + tenant
	}
	return "x-" + hex.EncodeToString([]byte(tenant))
}

func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return s[0] != '.'
}

func tenantFromDir(d string) (string, bool) {
	if s, ok := strings.CutPrefix(d, "n-"); ok && s != "" && plainName(s) {
		return s, true
	}
	if s, ok := strings.CutPrefix(d, "x-"); ok {
		b, err := hex.DecodeString(s)
		return string(b), err == nil
	}
	return "", false
}
