// Package lastgoodconverter provides the confmap converter that checks every
// resolved configuration (at start and on each reload) against the
// distribution's components before the collector acts on it. A configuration
// that is invalid, or that has no pipeline, receiver or exporter, is replaced
// by the one the collector already runs, so a bad reload never takes the
// daemon down; the refusal is logged and counted.
package lastgoodconverter // import "github.com/otelcol-logx/otelcol-logx/confmap/converter/lastgoodconverter"
