// Package resilience holds the fault tests, run against the built collector
// binary (LOGX_BIN) with root:
//   - the network: a partition made of network namespaces, veth pairs and
//     nftables packet loss;
//   - crashes and disks: kill -9 of an edge collector with a persistent
//     queue; a disk that fills up under the persistent queue and the tenant
//     buffers; a soak at a fixed rate;
//   - transitions: bad reloads and a start on the last good config
//     (reload_test.go), socket activation across restarts and reloads
//     (activation_test.go), readiness and the watchdog (readiness_test.go),
//     health after a reload, and the cutover from a real syslog-ng and back
//     (cutover_test.go, against a stand-in for systemd in
//     cutover_systemd_test.go);
//   - tier 2 under hostile senders: CPU per byte of adversarial lines
//     against ordinary ones, with a well-behaved sender acknowledged
//     throughout (tier2_hostile_test.go); descriptor exhaustion, slow and
//     greedy connections, the byte budget (tier2_limits_test.go);
//   - isolation: edge.yaml's shape with both tier-2 sides down and the
//     cfjs1 queue full, the local file getting every line once
//     (edge_isolation_test.go); a flood from one service beside 20 quiet
//     ones, the receiver's buffer shared fairly (fairshare_test.go);
//   - the role configs as shipped: tier2-log-a.yaml and tier2-log-b.yaml
//     into Kafka (kfake), each with Kafka down for a while, tier3-tenants.yaml from Kafka with a node
//     killed and restarted (roles_kafka_test.go), edge.yaml and
//     core-postgres.yaml with tier 2 down and default.yaml on a full disk (roles_edge_test.go);
//   - order per host and service through both tier-2 sides into Kafka
//     while log-a is killed twice (ordering_test.go), and what the edge's
//     single cfjs1 consumer costs in throughput (ordering_cost_test.go);
//   - the fleet: edge to tier 2 to Kafka to two tenant-tier nodes with one
//     killed, and the blank-job-document incident replayed across the tiers
//     (fleet_test.go).
//
// The tests carry the build tag "resilience" so that `go test ./...` (which
// has neither the binary nor, on a developer machine, root) leaves them out.
// `make resilience-test-short` runs them at a reduced scale (part of
// `make test`), `make resilience-test` at full scale with the 10-minute soak
// (LOGX_RESILIENCE=full).
package resilience
