// Package tenantbufferexporter writes each log record to a durable,
// checksummed on-disk buffer of its tenant, under hard guards that are on by
// default (buffer count, bytes per tenant and in total, free disk, age), with
// max-min fair reclaim of the total budget and named consumers that read
// each buffer from their own durable position. Optional push jobs deliver
// each tenant's records in batches to its destination (files, HTTP), from a
// job config that is checked before use.
package tenantbufferexporter // import "github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter"
