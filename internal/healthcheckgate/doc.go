// Package healthcheckgate makes the distribution's health_check extension
// answer from component status: importing it turns the upstream feature
// gate extension.healthcheck.useComponentStatus on by default, before the
// command line is read.
//
// Without that gate the upstream extension answers 200 whenever the
// pipelines have started, whatever a component reports afterwards (a
// receiver that can no longer accept connections, a memory limiter that
// refuses data), and it refuses the settings that say which errors count.
// Every shipped config uses those settings, so the gate is the
// distribution's default rather than a flag each unit, script and test
// would have to repeat.
//
// The package is imported by package components, which both the built
// binary (through the last-good converter) and every in-process collector
// (components.Factories) load. The command line is parsed after package
// initialisation, so --feature-gates=-extension.healthcheck.useComponentStatus
// still turns the gate off; the health_check settings must then be written
// in the extension's older form (endpoint, path), which answers 200 while
// the pipelines run.
package healthcheckgate // import "github.com/otelcol-logx/otelcol-logx/internal/healthcheckgate"
