// Package resilience holds the fault tests of issue 12, run against the built
// collector binary (LOGX_BIN) with root: a network partition made of network
// namespaces, veth pairs and nftables packet loss; kill -9 of an edge
// collector with a persistent queue; a disk that fills up under the
// persistent queue and the tenant buffers; and a soak at a fixed rate.
//
// The tests carry the build tag "resilience" so that `go test ./...` (which
// has neither the binary nor, on a developer machine, root) leaves them out.
// `make resilience-test-short` runs them at a reduced scale (part of
// `make test`), `make resilience-test` at full scale with the 10-minute soak
// (LOGX_RESILIENCE=full).
package resilience
