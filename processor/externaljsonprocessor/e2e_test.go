package externaljsonprocessor_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/processor/externaljsonprocessor"
)

// A whole collector (otlp -> externaljson -> sink): the data center status
// changes at the source, and every record sent after the next completed
// refresh carries the new value.
func TestEndToEndValueChangeReachesRecords(t *testing.T) {
	var status atomic.Value
	status.Store(`{"dc":{"name":"ams","traffic":"on"}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(status.Load().(string)))
	}))
	defer srv.Close()

	refreshes := make(chan string, 1024)
	remove := externaljsonprocessor.SetRefreshHook(func(id component.ID, source string) {
		select {
		case refreshes <- id.String() + "/" + source:
		default:
		}
	})
	defer remove()

	addr := testutil.FreeTCPAddr(t)
	sink := &collectortest.Sink{}
	collectortest.Start(t, `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: `+addr+`
processors:
  externaljson:
    startup_wait: 10s
    sources:
      - name: dc
        http:
          endpoint: `+srv.URL+`
        interval: 50ms
        mapping:
          prefix: site.
          fields:
            - path: dc.traffic
              key: traffic
exporters:
  sink/out: {}
service:
  pipelines:
    logs:
      receivers: [otlp]
      processors: [externaljson]
      exporters: [sink/out]
`, collectortest.WithSinks(map[string]*collectortest.Sink{"out": sink}))

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := plogotlp.NewGRPCClient(conn)
	send := func(body string) {
		ld := plog.NewLogs()
		ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(body)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := client.Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
		require.NoError(t, err)
	}
	lastTraffic := func() string {
		all := sink.AllLogs()
		lr := all[len(all)-1].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		v, ok := lr.Attributes().Get("site.traffic")
		require.True(t, ok, "record %q has no site.traffic", lr.Body().Str())
		return v.Str()
	}

	// startup_wait: the very first record is already enriched.
	send("before")
	require.Equal(t, "on", lastTraffic())

	status.Store(`{"dc":{"name":"ams","traffic":"off"}}`)
	waitRefreshes := func(n int) {
		deadline := time.After(10 * time.Second)
		for range n {
			select {
			case <-refreshes:
			case <-deadline:
				t.Fatal("no refresh within 10s")
			}
		}
	}
	for len(refreshes) > 0 {
		<-refreshes
	}
	waitRefreshes(2) // the second began after the change
	for i := range 20 {
		send("after")
		require.Equal(t, "off", lastTraffic(), "record %d after the change", i)
	}
}
