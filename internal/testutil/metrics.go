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

// SumInt64Reason is SumInt64 of the points with attribute reason, or of
// every point when reason is "": the drop and refusal counters.
func SumInt64Reason(t testing.TB, tel *componenttest.Telemetry, name, reason string) int64 {
	t.Helper()
	if reason == "" {
		return SumInt64(t, tel, name)
	}
	return SumInt64(t, tel, name, attribute.String("reason", reason))
}

// SumInt64Where is SumInt64 with the attributes wanted given as a map of
// strings.
func SumInt64Where(t testing.TB, tel *componenttest.Telemetry, name string, want map[string]string) int64 {
	t.Helper()
	kvs := make([]attribute.KeyValue, 0, len(want))
	for k, v := range want {
		kvs = append(kvs, attribute.String(k, v))
	}
	return SumInt64(t, tel, name, kvs...)
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
