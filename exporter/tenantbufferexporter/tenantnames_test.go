package tenantbufferexporter

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
)

// A tenant name of any length tenant.max_length allows gets a buffer: its
// directory name does not grow with the name. Before, a name of 127 bytes
// or more made a directory name past the file system's 255 bytes, and the
// whole call failed retryably after the other tenants were written, so
// every retry wrote them again.
func TestExporterLongTenantNamesStoredWithOthersOnce(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	cfg := testConfig(t.TempDir())
	_, e := startExporter(t, cfg, tel)
	long200 := strings.Repeat("t", 200)
	long256 := strings.Repeat("é", 128) // 256 bytes, not plain characters
	ld := makeLogs([]string{"acme", long200, "globex", long256}, 3)
	require.NoError(t, e.consumeLogs(context.Background(), ld))

	st := e.Store()
	for _, tenant := range []string{"acme", long200, "globex", long256} {
		got := readBodies(t, st, tenant)
		require.Equal(t, []string{tenant + "-0", tenant + "-1", tenant + "-2"}, got, "tenant of %d bytes", len(tenant))
	}
	require.EqualValues(t, 12, sumCounter(t, tel, "otelcol_logx_tenantbuffer_records_accepted", ""))
	require.EqualValues(t, 0, sumCounter(t, tel, "otelcol_logx_tenantbuffer_records_refused", ""))
}

// A tenant whose buffer directory cannot be created is refused alone and
// counted (tenant_dir); the call succeeds for the others, so nothing
// upstream retries and writes them twice, and the failed tenant takes no
// slot under max_buffers.
func TestExporterTenantDirFailureRefusedAlone(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	cfg := testConfig(t.TempDir())
	cfg.Limits.MaxBuffers = 2
	_, e := startExporter(t, cfg, tel)
	blockTenantDir(t, cfg.Directory, "blocked")

	err := e.consumeLogs(context.Background(), makeLogs([]string{"blocked", "acme", "globex"}, 3))
	require.NoError(t, err, "an error would make upstream send acme and globex again")

	st := e.Store()
	require.Len(t, readBodies(t, st, "acme"), 3)
	require.Len(t, readBodies(t, st, "globex"), 3, "the blocked tenant must not hold one of the two buffer slots")
	require.EqualValues(t, 3, sumCounter(t, tel, "otelcol_logx_tenantbuffer_records_refused", "tenant_dir"))
	require.EqualValues(t, 0, sumCounter(t, tel, "otelcol_logx_tenantbuffer_records_refused", "max_buffers"))
	require.EqualValues(t, 6, sumCounter(t, tel, "otelcol_logx_tenantbuffer_records_accepted", ""))
	require.EqualValues(t, 2, st.Stats().Buffers)
}

// blockTenantDir puts a file where tenant's buffer directory would go, so
// that the directory cannot be made.
func blockTenantDir(t *testing.T, dir, tenant string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "t", buffers.DirName(tenant)), []byte("in the way"), 0o640))
}
