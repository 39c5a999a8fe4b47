// Package guardedfileprovider is the collector's file provider (scheme
// "file"), wrapped so that a configuration file that cannot be read or
// parsed on reload is refused by the lastgoodconverter like any other
// invalid configuration, instead of failing the resolve, which makes the
// upstream collector exit after it has already shut its pipelines down.
package guardedfileprovider // import "github.com/otelcol-logx/otelcol-logx/confmap/provider/guardedfileprovider"
