// Package e2e holds the tests that cross components: whole otelcol-logx
// collectors started in-process (collectortest) from YAML, with several
// receivers, processors, exporters and connectors working together, and the
// shipped example configs run as they are. A component's own tests, even
// those that run it in a collector, live in its folder.
//
// Tests that need Debian tools (logger, systemd-journal-remote) build only
// with -tags interop (make test).
package e2e
