package cfjs1

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The fast path must agree with time.Parse on everything it accepts, and
// leave to it (so that it words the error) everything else.
func TestParseUTCTimestampAgreesWithTimeParse(t *testing.T) {
	cases := []string{
		"2026-11-22T04:05:06.789000001Z", "2026-11-22T04:05:06Z", "2026-11-22T04:05:06.7Z",
		"2024-02-29T23:59:59.999999999Z", "2023-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
		"0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.5Z",
		"2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z",
		"2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z",
		"2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567891Z", "2026-01-01T00:00:00,5Z",
		"2026-01-01t00:00:00Z", "2026-01-01T00:00:00z", "2026-01-01T00:00:00+01:00", "2026-1-01T00:00:00Z",
		"+026-01-01T00:00:00Z", "2026-01-01T00:00:0xZ", "2026-01-01T00:00:00.-1Z", "",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		cases = append(cases, fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%0*dZ",
			rng.IntN(10000), rng.IntN(14), rng.IntN(33), rng.IntN(25), rng.IntN(61), rng.IntN(61),
			1+rng.IntN(9), rng.IntN(1000000000)))
	}
	// And the years that are worked out without time.Date, densely.
	cases = append(cases, "2261-12-31T23:59:59.999999999Z", "2262-01-01T00:00:00Z", "2100-02-28T12:00:00Z",
		"2100-03-01T00:00:00Z", "2000-03-01T00:00:00Z", "2000-02-29T23:59:59Z", "1970-03-01T00:00:00Z")
	for range 50000 {
		cases = append(cases, fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%0*dZ",
			1960+rng.IntN(310), 1+rng.IntN(12), 1+rng.IntN(31), rng.IntN(24), rng.IntN(60), rng.IntN(60),
			1+rng.IntN(9), rng.IntN(1000000000)))
	}
	for _, s := range cases {
		tm, err := time.Parse(time.RFC3339Nano, s)
		got, ok := parseUTCTimestamp([]byte(s))
		if ok {
			require.NoError(t, err, "fast path accepted %q, time.Parse refuses it", s)
			require.Equal(t, pcommon.NewTimestampFromTime(tm), got, s)
		}
	}
	// The encoder's own form always takes the fast path.
	for _, s := range cases[:11] {
		if s == "2023-02-29T00:00:00Z" || s == "1900-02-29T00:00:00Z" {
			continue
		}
		_, ok := parseUTCTimestamp([]byte(s))
		require.True(t, ok, s)
	}
}
