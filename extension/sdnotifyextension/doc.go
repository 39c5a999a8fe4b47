// Package sdnotifyextension tells systemd (a Type=notify unit) when the
// collector is ready, reloading or stopping, and feeds the unit's watchdog
// only while a liveness check passes. READY=1 is sent once every pipeline
// has started and no component reported a permanent or fatal error, so
// that `systemctl start` and the cutover from syslog-ng wait until the
// receivers are reading; without $NOTIFY_SOCKET it does nothing.
package sdnotifyextension // import "github.com/otelcol-logx/otelcol-logx/extension/sdnotifyextension"
