// Package tenantfilterprocessor drops, early and counted, the log records
// of tenants that have no push job, reading the same guarded job document
// as the tenantbuffer exporter. A blank, missing, unreadable or invalid
// document, or one that takes away too much of the coverage in force, is
// refused and the last good job set stays in force: a bad document never
// admits every tenant, and before any good document it admits none.
package tenantfilterprocessor // import "github.com/otelcol-logx/otelcol-logx/processor/tenantfilterprocessor"
