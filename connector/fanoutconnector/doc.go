// Package fanoutconnector fans a logs pipeline out to several pipelines and
// keeps track, per destination pipeline, of which batches each one took, so
// that a destination that refuses does not make the others receive the same
// batch again nor make the receiver drop new data. A batch taken by at least
// one destination is never offered to it again; the destinations that
// refused it get it later from a bounded backlog of their own, in order,
// retried in the background. See README.md.
package fanoutconnector // import "github.com/otelcol-logx/otelcol-logx/connector/fanoutconnector"
