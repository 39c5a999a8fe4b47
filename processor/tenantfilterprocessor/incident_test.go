package tenantfilterprocessor

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/processor/tenantfilterprocessor/internal/metadata"
)

// Replay of a blank job document pushed while 1,000 tenants are active and
// 40,000 distinct tenants appear in the input. The processor reads a real
// file through the real loader, reloading on its own every 5ms. The blank
// document must be refused, not taken as "no restriction": every record of
// the 1,000 admitted tenants comes out, none of anyone else's, every drop
// is counted, and the gauges show the refusal with the 1,000 jobs still in
// force.
func TestIncidentBlankJobDocumentUnderManyTenants(t *testing.T) {
	const (
		admitted = 1000
		distinct = 40000
		rounds   = 40                             // each round: every admitted tenant once, and tenants never seen before:
		newcomer = (distinct - admitted) / rounds // 975 of them
		blankAt  = 10                             // the round before which the blank document is pushed
	)
	cfg := testConfig()
	cfg.ReloadInterval = 5 * time.Millisecond
	h := startFilter(t, cfg, jobsDoc(tenantNames("tenant-", admitted)))
	require.EqualValues(t, admitted, h.gauge(t, metadata.MetricJobs))

	seen := map[string]bool{}
	fed, fedAdmitted, out := 0, 0, 0
	perTenantIn, perTenantOut := map[string]int{}, map[string]int{}
	for round := range rounds {
		if round == blankAt {
			writeJobs(t, h.jobsFile, []byte("\n"))
			require.Eventually(t, func() bool {
				return h.counts(t, metadata.MetricJobReloadsRefused)["blank"] > 0
			}, 30*time.Second, 5*time.Millisecond, "the blank document was never read")
		}
		ld := plog.NewLogs()
		lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		add := func(tenant string) {
			lrs.AppendEmpty().Attributes().PutStr("logx.tenant", tenant)
			seen[tenant] = true
			fed++
		}
		for i := range admitted {
			tn := fmt.Sprintf("tenant-%d", i)
			add(tn)
			perTenantIn[tn]++
			fedAdmitted++
		}
		for i := range newcomer {
			add(fmt.Sprintf("stranger-%d-%d", round, i))
		}
		for _, tn := range h.consume(t, ld) {
			perTenantOut[tn]++
			out++
		}
	}
	require.Len(t, seen, distinct, "the input is not the incident's 40,000 tenants")

	assert.Equal(t, perTenantIn, perTenantOut, "an admitted tenant lost records, or another tenant got through")
	assert.LessOrEqual(t, out, fedAdmitted, "output grew past the admitted tenants' input")
	dropped := h.counts(t, metadata.MetricRecordsDropped)
	assert.Equal(t, map[string]int64{"no_job": int64(fed - fedAdmitted)}, dropped)
	assert.Equal(t, fed, out+int(dropped["no_job"]), "fed = delivered + counted drops")

	refused := h.counts(t, metadata.MetricJobReloadsRefused)
	assert.Positive(t, refused["blank"])
	assert.Equal(t, map[string]int64{"blank": refused["blank"]}, refused, "refused for another reason than the blank document")
	assert.EqualValues(t, 0, h.gauge(t, metadata.MetricLastReloadSuccess))
	assert.EqualValues(t, admitted, h.gauge(t, metadata.MetricJobs))
	assert.EqualValues(t, 1, h.gauge(t, metadata.MetricJobConfigLoaded))
	assert.Positive(t, h.logs.FilterMessageSnippet("the last good job set stays in force").Len())
}
