//go:build dist

package components

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestBinaryListsEveryComponent runs the OCB-built binary (`make
// dist-test` builds it and sets LOGX_BIN) and checks that `components`
// lists exactly what Factories() holds.
func TestBinaryListsEveryComponent(t *testing.T) {
	bin := os.Getenv("LOGX_BIN")
	require.NotEmpty(t, bin, "set LOGX_BIN to the built otelcol-logx (make dist-test does)")
	out, err := exec.Command(bin, "components").Output()
	require.NoError(t, err)

	var listed map[string]any
	require.NoError(t, yaml.Unmarshal(out, &listed))
	names := func(section string) []string {
		var got []string
		entries, _ := listed[section].([]any)
		for _, e := range entries {
			got = append(got, e.(map[string]any)["name"].(string))
		}
		return got
	}

	f, err := Factories()
	require.NoError(t, err)
	want := map[string][]string{}
	for typ := range f.Receivers {
		want["receivers"] = append(want["receivers"], typ.String())
	}
	for typ := range f.Processors {
		want["processors"] = append(want["processors"], typ.String())
	}
	for typ := range f.Exporters {
		want["exporters"] = append(want["exporters"], typ.String())
	}
	for typ := range f.Extensions {
		want["extensions"] = append(want["extensions"], typ.String())
	}
	for typ := range f.Connectors {
		want["connectors"] = append(want["connectors"], typ.String())
	}
	for section, types := range want {
		require.ElementsMatch(t, types, names(section), "%s listed by %s components", section, bin)
	}
	require.Contains(t, string(out), "version: "+Version)

	out, err = exec.Command(bin, "--version").Output()
	require.NoError(t, err)
	require.Equal(t, "otelcol-logx version "+Version, strings.TrimSpace(string(out)), "--version names components.Version")
}
