package tenantjobs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Rules are what the exporter's own configuration allows a job document to
// ask for. The document may come from a remote source; these rules keep a
// wrong or hostile one from sending tenants' logs in clear text, to a
// server whose certificate is not checked, or into any file the collector
// can write. The zero value is the strictest: https with verified
// certificates only, and no file destination at all.
type Rules struct {
	// FileRoot: file destinations must lie under this directory; empty
	// refuses every file destination.
	FileRoot string
	// Reserved: directories a file destination must stay out of even under
	// FileRoot (the exporter's own buffers and dead letters).
	Reserved []string
	// AllowInsecure names the jobs that may use an http:// url or
	// insecure_skip_verify.
	AllowInsecure []string
	// SelectorsOnly is for readers that only ask which tenants have a job
	// and deliver nowhere (the tenantfilter processor). They skip the
	// destination checks above, which are the delivering exporter's to
	// make: a reader stricter than the exporter would drop, early, the
	// records of tenants the exporter still pushes. The shape of every job
	// is checked all the same.
	SelectorsOnly bool
}

// checkPath refuses a file destination outside FileRoot or inside a
// reserved directory. The check is on the cleaned path: "..", repeated
// slashes and a trailing slash cannot leave the root.
func (r *Rules) checkPath(path string) error {
	if path == "" {
		return errors.New("file destination needs a path")
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("path %q: write an absolute path under push.destinations.file_root", path)
	}
	if r.FileRoot == "" {
		return fmt.Errorf("path %q: file destinations are off; set push.destinations.file_root in the exporter config to the directory they may write under", path)
	}
	p := filepath.Clean(path)
	if !within(p, filepath.Clean(r.FileRoot)) {
		return fmt.Errorf("path %q is outside push.destinations.file_root %q; write a path under it", path, r.FileRoot)
	}
	for _, dir := range r.Reserved {
		if within(p, filepath.Clean(dir)) || within(filepath.Clean(dir), p) {
			return fmt.Errorf("path %q overlaps the exporter's own directory %q; write a path outside it", path, dir)
		}
	}
	return nil
}

// checkTransport refuses plain http and unverified TLS unless the job is
// named in AllowInsecure.
func (r *Rules) checkTransport(job, scheme string, skipVerify bool) error {
	if scheme == "https" && !skipVerify {
		return nil
	}
	for _, name := range r.AllowInsecure {
		if name == job {
			return nil
		}
	}
	if skipVerify {
		return fmt.Errorf("tls.insecure_skip_verify: refused; give the server's CA in tls.ca_file or tls.ca_pem, or name job %q in push.destinations.allow_insecure_jobs", job)
	}
	return fmt.Errorf("url scheme %q: logs would travel in clear text; write an https:// url, or name job %q in push.destinations.allow_insecure_jobs", scheme, job)
}

// within reports whether the clean path p is dir or lies under it.
func within(p, dir string) bool {
	if dir == string(filepath.Separator) || p == dir {
		return true
	}
	return strings.HasPrefix(p, dir+string(filepath.Separator))
}
