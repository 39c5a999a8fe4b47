// Package syslog parses RFC 3164 and RFC 5424 messages into the OTel log
// model and formats log records as RFC 5424, for the receivers and the
// logfile exporter alike.
//
// Parsing costs time linear in the line, whatever the writer puts in it.
// RFC 5424 structured data becomes one string attribute per parameter
// ("syslog.sd.<id>.<param>"); a parameter name repeated in an element keeps
// the place of its first occurrence and takes the value of its last. What
// one message adds to its record is bounded:
//
//   - Parser.MaxSDElements, default 16 (DefaultMaxSDElements): elements
//     turned into attributes;
//   - Parser.MaxSDParams, default 64 (DefaultMaxSDParams): parameters, over
//     all elements, turned into attributes.
//
// Past either bound the rest of the structured data is still checked (so
// the MSG is found and a malformed line is still refused) but becomes no
// attributes, and the record is marked with the boolean attribute
// syslog.structured_data.truncated. The body is the MSG, as for any valid
// line.
package syslog // import "github.com/otelcol-logx/otelcol-logx/internal/syslog"
