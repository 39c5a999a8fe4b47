package collectortest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

func TestStartDeliversAndShutsDown(t *testing.T) {
	addr := testutil.FreeTCPAddr(t)
	sink := &Sink{}
	col := Start(t, `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: `+addr+`
exporters:
  sink/out: {}
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [sink/out]
`, WithSinks(map[string]*Sink{"out": sink}))

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("hello")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
	require.NoError(t, err)
	require.Equal(t, 1, sink.LogRecordCount())
	require.Equal(t, "hello", sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())

	sink.SetRefusing(true)
	_, err = plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
	require.Error(t, err)
	require.EqualValues(t, 1, sink.RefusedRecords())

	require.NoError(t, col.Shutdown())
	require.NoError(t, col.Shutdown(), "a second Shutdown is a no-op")
}
