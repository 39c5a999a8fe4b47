package testutil

import (
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// SumInt64 adds the points of an Int64 sum (counter or up-down counter)
// named name whose attributes include want; 0 if it was never recorded.
func SumInt64(t testing.TB, tel *componenttest.Telemetry, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var total int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if hasAll(dp.Attributes, want) {
			total += dp.Value
		}
	}
	return total
}

// GaugeByAttribute reads a gauge (Int64 or Float64) as the value of each
// point keyed by its attribute key: e.g. the guard metrics by "guard".
func GaugeByAttribute(t testing.TB, tel *componenttest.Telemetry, name, key string) map[string]float64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	if err != nil {
		t.Fatalf("metric %s: %v", name, err)
	}
	out := map[string]float64{}
	switch d := m.Data.(type) {
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			v, _ := p.Attributes.Value(attribute.Key(key))
			out[v.AsString()] = p.Value
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			v, _ := p.Attributes.Value(attribute.Key(key))
			out[v.AsString()] = float64(p.Value)
		}
	default:
		t.Fatalf("metric %s is not a gauge: %T", name, m.Data)
	}
	return out
}

func hasAll(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}
