//go:build resilience

package resilience

import "strings"

// edgeShapeConfig is configs/edge.yaml's shape, the collector several
// fault tests run: the unix socket receiver behind the memory limiter, the
// fanout connector feeding one pipeline per destination (cfjs1 in mode all
// to log-a and log-b with a persistent queue and one consumer; a local
// syslog file). Each test gives the receiver's and the connector's
// settings and extra sending_queue lines (indented as they stand); the
// result is a format with %[1]s the state directory, %[2]s and %[3]s the
// addresses of log-a and log-b and %[4]d the metrics port.
func edgeShapeConfig(receiver, fanout, queue string) string {
	return strings.NewReplacer("{{receiver}}", receiver, "{{fanout}}", fanout, "{{queue}}", queue).Replace(edgeShape)
}

const edgeShape = `
extensions:
  file_storage:
    directory: %[1]s/storage
    create_directory: true
receivers:
  unixsocket/syslog:
{{receiver}}processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 512
    spike_limit_mib: 128
connectors:
  fanout:
{{fanout}}exporters:
  cfjs1:
    mode: all
    endpoints:
      - name: log-a
        endpoint: %[2]s
      - name: log-b
        endpoint: %[3]s
    failback:
      initial_backoff: 100ms
      max_backoff: 1s
      healthy_for: 1s
    sending_queue:
      storage: file_storage
{{queue}}      num_consumers: 1
  logfile/local:
    path: %[1]s/logs/all.log
    format: syslog
    rotation:
      max_bytes: 0
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[4]d
  pipelines:
    logs:
      receivers: [unixsocket/syslog]
      processors: [memory_limiter]
      exporters: [fanout]
    logs/tier2:
      receivers: [fanout]
      exporters: [cfjs1]
    logs/local:
      receivers: [fanout]
      exporters: [logfile/local]
`
