package logfileexporter

import "path/filepath"

// pathAcct is what the exporter knows of one path it keeps files at: the
// bytes of the live file and its rotated siblings (for the disk guard and
// retention). A path is "known" from its first open until it has nothing
// left on disk that the exporter manages; max_paths bounds how many are
// known at once.
type pathAcct struct {
	path string
	// root is the directory below which the path is opened without
	// following links (see perms.openFile).
	root         string
	active       int64         // bytes of the live file
	rotated      []rotatedFile // one per rotation, oldest first
	rotatedBytes int64
	file         *logFile // open file, nil when closed
	// adopted is set once rotated files left by earlier runs were looked
	// for (in the background: see adoptPending).
	adopted bool
	// touched is the generation of the last open, close or write-side
	// change, so that a directory sweep started before it does not
	// overwrite what it did not see.
	touched uint64
}

// nextGen numbers changes to file state, for the sweep (see sweep).
func (e *logfileExporter) nextGen() uint64 {
	e.gen++
	return e.gen
}

// knownPaths is the number of paths counted against max_paths; the
// overflow file is not one of them.
func (e *logfileExporter) knownPaths() int {
	n := len(e.accts)
	if _, ok := e.accts[e.overflow]; ok {
		n--
	}
	return n
}

// route returns where a record rendered to path goes: path itself when it
// is known or there is room for one more, else the overflow file
// (overflowed true).
func (e *logfileExporter) route(path []byte) (string, bool) {
	if _, ok := e.accts[string(path)]; !ok && e.cfg.MaxPaths > 0 &&
		e.knownPaths() >= e.cfg.MaxPaths && string(path) != e.overflow {
		return e.overflow, true // no allocation per overflowed record
	}
	return string(path), false
}

// rootOf is the directory the operator configured for path: the
// overflow file's own directory, or the template's fixed part.
func (e *logfileExporter) rootOf(path string) string {
	if path == e.overflow {
		return filepath.Dir(e.overflow)
	}
	return e.root
}

// acctFor returns path's accounting, creating it (and scheduling the
// search for earlier runs' rotated files) on first sight.
func (e *logfileExporter) acctFor(path string) *pathAcct {
	if a := e.accts[path]; a != nil {
		return a
	}
	a := &pathAcct{path: path, root: e.rootOf(path)}
	e.accts[path] = a
	e.pendingAdopt = append(e.pendingAdopt, path)
	select {
	case e.adoptReq <- struct{}{}:
	default: // a request is already pending
	}
	return a
}

// setActive records the live file's size.
func (e *logfileExporter) setActive(a *pathAcct, size int64) {
	e.total += size - a.active
	a.active = size
}

// setRotated replaces the path's rotated files and recounts their bytes.
func (e *logfileExporter) setRotated(a *pathAcct, files []rotatedFile) {
	var n int64
	for _, f := range files {
		n += f.size
	}
	e.total += n - a.rotatedBytes
	a.rotated, a.rotatedBytes = files, n
}

// maybeForget drops a path that has nothing left on disk that the
// exporter manages: closed, its live file empty or gone (moved away by
// logrotate, removed), and no rotated files. Its slot under max_paths is
// free again; its next record opens it as new.
func (e *logfileExporter) maybeForget(a *pathAcct) {
	if a.file != nil || !a.adopted || a.active != 0 || len(a.rotated) != 0 {
		return
	}
	if e.accts[a.path] == a {
		delete(e.accts, a.path)
	}
}

// forgetUnusedDirs drops cached free-space state of directories that no
// known path uses any more (open files keep their own pointer).
func (e *logfileExporter) forgetUnusedDirs() {
	used := make(map[string]struct{}, len(e.dirs))
	for p := range e.accts {
		used[dirOf(p)] = struct{}{}
	}
	for d := range e.dirs {
		if _, ok := used[d]; !ok {
			delete(e.dirs, d)
		}
	}
}
