package metadata

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// The recorders below give the generated instruments (generated_telemetry.go)
// their attributes, so that call sites say what happened, not a key.

var (
	directionUp   = metric.WithAttributeSet(attribute.NewSet(attribute.String("direction", "up")))
	directionDown = metric.WithAttributeSet(attribute.NewSet(attribute.String("direction", "down")))
)

// Changed counts a change of GOMAXPROCS from one value to another and
// records the new one.
func (t *TelemetryBuilder) Changed(from, to int) {
	direction := directionUp
	if to < from {
		direction = directionDown
	}
	t.LogxGomaxprocsChanges.Add(context.Background(), 1, direction)
	t.Procs(to)
}

// Procs records the GOMAXPROCS the process runs with.
func (t *TelemetryBuilder) Procs(n int) {
	t.LogxGomaxprocsProcs.Record(context.Background(), int64(n))
}
