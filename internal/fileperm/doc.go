// Package fileperm parses the mode, owner and group a configuration gives
// the files a component creates (FIFOs, socket files, log files and their
// directories), and applies them through a descriptor that never followed
// a symbolic link.
//
// One rule set for every component. A file's mode is its permission bits,
// "0000" to "0777": setuid, setgid and sticky mean nothing on a log file,
// a FIFO or a socket (and set-id bits on a file others write to are a
// hazard), so they are refused with a message saying what to write. A
// directory's mode may add setgid ("2750": files created in it get its
// group, the usual way to share a log directory with a group) and sticky
// ("1777": only a file's owner may remove it); setuid, which Linux ignores
// on a directory, is refused.
package fileperm // import "github.com/otelcol-logx/otelcol-logx/internal/fileperm"
