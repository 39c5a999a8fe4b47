// Package logxtelemetry is the collector's own telemetry (logs, metrics and
// traces exactly as the upstream otelconftelemetry configures them) with the
// configuration guard's figures added to every meter provider the service
// creates, so they appear on the collector's metrics endpoint with the rest:
// otelcol_logx_config_reload_failures and
// otelcol_logx_config_last_reload_success. It also tells the guard when a
// configuration has finished starting, which makes it the last good one.
package logxtelemetry // import "github.com/otelcol-logx/otelcol-logx/service/telemetry/logxtelemetry"
