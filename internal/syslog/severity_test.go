package syslog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"
)

func TestSeverityRoundTrip(t *testing.T) {
	for s := SevEmergency; s <= SevDebug; s++ {
		assert.Equal(t, s, FromOTel(s.OTel()), "severity %d (%s)", s, s.Text())
	}
}

func TestFromOTelNearest(t *testing.T) {
	cases := map[plog.SeverityNumber]Severity{
		plog.SeverityNumberUnspecified: SevInformational,
		plog.SeverityNumberTrace:       SevDebug,
		plog.SeverityNumberDebug3:      SevDebug,
		plog.SeverityNumberInfo3:       SevNotice,
		plog.SeverityNumberWarn2:       SevWarning,
		plog.SeverityNumberError4:      SevError,
		plog.SeverityNumberFatal:       SevCritical,
	}
	for n, want := range cases {
		assert.Equal(t, want, FromOTel(n), "otel %s", n)
	}
}
