// Package handlecache bounds a set of open handles (files, segment
// writers) by evicting the least recently used one, for the exporters
// that keep one handle per path or tenant and must not run out of file
// descriptors: the logfile exporter's open files and the tenant buffer's
// segment writers.
package handlecache // import "github.com/otelcol-logx/otelcol-logx/internal/handlecache"
