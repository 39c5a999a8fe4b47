//go:build !race

package kafkatopicsexporter

// raceEnabled: the race detector slows this process several times over.
const raceEnabled = false
