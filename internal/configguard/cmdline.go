package configguard

import (
	"strings"
)

// Mode is what the process was asked to do.
type Mode int

const (
	// ModeRun runs the collector: refused reloads keep the running
	// configuration and the last good one is written to disk.
	ModeRun Mode = iota
	// ModeCheck is any subcommand (validate, print-config, ...): the guard
	// reports errors exactly as they are and writes nothing.
	ModeCheck
)

// commandLine reads what the guard needs from the process arguments: the
// subcommand, if any, and the files given by --config. The collector parses
// them itself but hands neither to providers nor converters, and the guard
// must tell a top-level config file (which has to be a YAML map) from a file
// referenced inside the config as ${file:...} (which may hold any text).
func commandLine(args []string) (Mode, []string) {
	mode := ModeRun
	if len(args) > 0 && args[0] != "" && !strings.HasPrefix(args[0], "-") {
		mode = ModeCheck
	}
	var files []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		var v string
		switch {
		case a == "--config" || a == "-config":
			if i+1 >= len(args) {
				continue
			}
			i++
			v = args[i]
		case strings.HasPrefix(a, "--config="):
			v = strings.TrimPrefix(a, "--config=")
		case strings.HasPrefix(a, "-config="):
			v = strings.TrimPrefix(a, "-config=")
		default:
			continue
		}
		if path, ok := filePath(v); ok {
			files = append(files, path)
		}
	}
	return mode, files
}

// filePath returns the file a config URI names, as the resolver does: no
// scheme (or a drive letter) means file.
func filePath(uri string) (string, bool) {
	if p, ok := strings.CutPrefix(uri, "file:"); ok {
		return p, true
	}
	scheme, _, found := strings.Cut(uri, ":")
	if !found || len(scheme) == 1 {
		return uri, true
	}
	return "", false
}
