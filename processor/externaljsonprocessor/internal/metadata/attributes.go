package metadata

import "go.opentelemetry.io/otel/attribute"

// SourceAttr names the source a measurement is about.
func SourceAttr(name string) attribute.KeyValue { return attribute.String("source", name) }

// ReasonAttr says why a fetch failed or a field was skipped.
func ReasonAttr(reason string) attribute.KeyValue { return attribute.String("reason", reason) }
