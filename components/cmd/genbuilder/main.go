// Command genbuilder writes builder-config.yaml, the OCB manifest of the
// distribution, from the component list in package components. Run it from
// the repository root: `make builder-config`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/otelcol-logx/otelcol-logx/components"
)

func main() {
	goMod := flag.String("gomod", "go.mod", "the repository's go.mod, source of module versions")
	out := flag.String("out", "builder-config.yaml", "where to write the OCB manifest")
	flag.Parse()

	if err := run(*goMod, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genbuilder:", err)
		os.Exit(1)
	}
}

func run(goModPath, outPath string) error {
	goMod, err := os.ReadFile(goModPath)
	if err != nil {
		return err
	}
	cfg, err := components.BuilderConfig(goMod)
	if err != nil {
		return err
	}
	return os.WriteFile(outPath, cfg, 0o644) //nolint:gosec // G306: builder-config.yaml is a source file of the repository
}
