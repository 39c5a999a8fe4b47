package components_test

import (
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-logx/otelcol-logx/components"
	"github.com/otelcol-logx/otelcol-logx/confmap/converter/lastgoodconverter"
)

// TestConverterImportPaths checks the converter paths that components lists
// as strings (it cannot import them) against the real packages.
func TestConverterImportPaths(t *testing.T) {
	want := []string{pkgOf(lastgoodconverter.NewFactory)}
	var got []string
	for _, m := range components.Modules() {
		if m.Kind == components.KindConverter {
			got = append(got, m.Import)
		}
	}
	assert.Equal(t, want, got)
}

func pkgOf(fn any) string {
	name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	return strings.TrimSuffix(name, ".NewFactory")
}
