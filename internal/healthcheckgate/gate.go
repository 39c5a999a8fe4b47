package healthcheckgate

import (
	"fmt"

	// The extension registers the gate when it is initialised, which Go
	// does before this package's init.
	_ "github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckextension"
	"go.opentelemetry.io/collector/featuregate"
)

// GateID is the upstream gate that makes health_check answer from
// component status and accept its http/component_health settings.
const GateID = "extension.healthcheck.useComponentStatus"

func init() {
	if err := enable(featuregate.GlobalRegistry(), GateID); err != nil {
		// Only a different upstream version can get here; failing every
		// start and test at once says so better than configs that no longer
		// validate.
		panic("healthcheckgate: " + err.Error())
	}
}

// enable turns the gate id on unless it already is. A gate that upstream
// has made stable or beta is on already and is left alone: setting a
// stable gate prints a notice on standard output, which would end up in
// the output of every subcommand.
func enable(reg *featuregate.Registry, id string) error {
	var gate *featuregate.Gate
	reg.VisitAll(func(g *featuregate.Gate) {
		if g.ID() == id {
			gate = g
		}
	})
	if gate == nil {
		return fmt.Errorf("feature gate %q is not registered: the health_check extension no longer has it, so the shipped health_check settings need another look", id)
	}
	if gate.IsEnabled() {
		return nil
	}
	return reg.Set(id, true)
}
