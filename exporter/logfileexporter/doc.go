// Package logfileexporter writes log records to local files as plain text,
// RFC 5424 syslog, JSON or cfjs1 lines, at paths chosen per record by a
// template over attributes. One writer serves every option: rotation by
// size and time, retention, background gzip/zstd compression, reopening
// after logrotate or SIGHUP, permissions applied regardless of umask,
// flush and fsync policies, a disk guard that drops with a count, and a
// cap on distinct paths beyond which records share an overflow file.
// Symbolic links are never followed below the template's fixed part.
package logfileexporter // import "github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter"
