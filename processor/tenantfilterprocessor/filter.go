package tenantfilterprocessor

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/tenantjobs"
)

// verdict is what happens to one record.
type verdict int

const (
	admit verdict = iota
	dropNoJob
	dropNoJobConfig
	dropMissingTenant
	verdicts
)

// reasons are the reason attributes of the dropped-records counter.
var reasons = [verdicts]string{
	dropNoJob:         "no_job",
	dropNoJobConfig:   "no_job_config",
	dropMissingTenant: "missing_tenant",
}

// dropOptions are the counter's attribute sets, made once.
func dropOptions() [verdicts]metric.AddOption {
	var opts [verdicts]metric.AddOption
	for v := dropNoJob; v < verdicts; v++ {
		opts[v] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reasons[v])))
	}
	return opts
}

// processLogs removes the records of tenants without a job in force and
// counts them by reason. The table is read once per call: a reload
// swapping it mid-batch does not split the batch between two job sets.
func (f *tenantFilter) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	table := f.holder.Table()
	var dropped [verdicts]int64
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		res := rl.Resource().Attributes()
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				v := f.judge(table, lr.Attributes(), res)
				dropped[v]++
				return v != admit
			})
			return sl.LogRecords().Len() == 0
		})
		return rl.ScopeLogs().Len() == 0
	})
	for v := dropNoJob; v < verdicts; v++ {
		if dropped[v] > 0 {
			f.tel.LogxTenantfilterRecordsDropped.Add(ctx, dropped[v], f.dropOpts[v])
		}
	}
	if ld.ResourceLogs().Len() == 0 {
		return ld, processorhelper.ErrSkipProcessingData
	}
	return ld, nil
}

// judge decides one record. Its cost does not depend on the number of
// jobs: an exact tenant is one map probe, prefixes one probe per distinct
// prefix length (tenantjobs.Table.Lookup).
func (f *tenantFilter) judge(table *tenantjobs.Table, rec, res pcommon.Map) verdict {
	tenant, ok := logattr.StringOf(f.cfg.Tenant.Attribute, rec, res)
	switch {
	case !ok && f.cfg.Tenant.Missing == missingPass:
		return admit
	case !ok:
		return dropMissingTenant
	case table == nil:
		return dropNoJobConfig
	}
	if _, ok := table.Lookup(tenant); !ok {
		return dropNoJob
	}
	return admit
}
