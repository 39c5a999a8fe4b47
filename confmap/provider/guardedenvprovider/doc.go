// Package guardedenvprovider is the collector's env provider (scheme "env",
// also the default scheme of ${NAME}), wrapped so that a reference the
// upstream provider refuses (an invalid variable name) makes the
// lastgoodconverter refuse the configuration on reload, instead of failing
// the resolve, which makes the upstream collector exit after it has already
// shut its pipelines down.
package guardedenvprovider // import "github.com/otelcol-logx/otelcol-logx/confmap/provider/guardedenvprovider"
