// Package journalreceiver reads the systemd journal as structured entries,
// by running `journalctl --output=export --follow` (no cgo), and keeps its
// cursor in a storage extension or a file, advanced only after the pipeline
// accepted the entries, so a restart neither loses nor repeats entries.
package journalreceiver // import "github.com/otelcol-logx/otelcol-logx/receiver/journalreceiver"
