package syslog

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

var formatTestTime = time.Date(2026, 11, 22, 4, 5, 6, 123456789, time.UTC)

func formatTestRecord() plog.LogRecord {
	rec := plog.NewLogRecord()
	rec.SetTimestamp(pcommon.NewTimestampFromTime(formatTestTime))
	rec.SetSeverityNumber(plog.SeverityNumberError)
	rec.Body().SetStr("disk almost full")
	a := rec.Attributes()
	a.PutInt(logattr.SyslogFacility, 3)
	a.PutStr(logattr.SyslogHostname, "web-1")
	a.PutStr(logattr.SyslogAppName, "nginx")
	a.PutInt(logattr.SyslogProcID, 811)
	a.PutStr(logattr.SyslogMsgID, "ID47")
	a.PutStr("syslog.sd.exampleSDID@32473.iut", "3")
	a.PutStr("syslog.sd.origin.ip", "192.0.2.1")
	a.PutStr("syslog.sd.exampleSDID@32473.eventSource", `Appl"ic\ation]`)
	return rec
}

func TestAppendRFC5424Full(t *testing.T) {
	out := AppendRFC5424([]byte("x"), pcommon.Map{}, formatTestRecord(), &RFC5424Options{})
	want := `x<27>1 2026-11-22T04:05:06.123456Z web-1 nginx 811 ID47 ` +
		`[exampleSDID@32473 iut="3" eventSource="Appl\"ic\\ation\]"][origin ip="192.0.2.1"] disk almost full`
	assert.Equal(t, want, string(out))
}

func TestAppendRFC5424Fallbacks(t *testing.T) {
	rec := plog.NewLogRecord()
	rec.SetObservedTimestamp(pcommon.NewTimestampFromTime(formatTestTime))
	rec.Body().SetStr("hello")
	rec.Attributes().PutStr(logattr.Service, "billing")
	res := pcommon.NewMap()
	res.PutStr(logattr.HostName, "host-a")

	out := AppendRFC5424(nil, res, rec, &RFC5424Options{})
	assert.Equal(t, "<14>1 2026-11-22T04:05:06.123456Z host-a billing - - - hello", string(out))

	// Nothing known: options' defaults, then NILVALUE.
	empty := plog.NewLogRecord()
	out = AppendRFC5424(nil, pcommon.Map{}, empty, &RFC5424Options{})
	assert.Equal(t, "<14>1 - - - - - - ", string(out))
	out = AppendRFC5424(nil, pcommon.Map{}, empty, &RFC5424Options{Facility: 16, Hostname: "me", AppName: "logx"})
	assert.Equal(t, "<134>1 - me logx - - - ", string(out))
	out = AppendRFC5424(nil, pcommon.Map{}, empty, &RFC5424Options{UseFacilityZero: true})
	assert.Equal(t, "<6>1 - - - - - - ", string(out))
}

func TestAppendRFC5424HeaderSanitising(t *testing.T) {
	rec := plog.NewLogRecord()
	a := rec.Attributes()
	a.PutStr(logattr.SyslogHostname, "bad host\n")
	a.PutStr(logattr.SyslogAppName, strings.Repeat("a", 100))
	a.PutStr(logattr.SyslogProcID, "")
	a.PutInt(logattr.SyslogFacility, 99) // out of range: default
	a.PutStr("syslog.sd.bad id=.p ]", "v")
	a.PutStr("syslog.sd.noparam", "ignored")
	a.PutStr("syslog.sd..p", "ignored")
	out := string(AppendRFC5424Header(nil, pcommon.Map{}, rec, &RFC5424Options{}))
	assert.Equal(t, "<14>1 - bad_host_ "+strings.Repeat("a", 48)+` - - [bad_id_ p__="v"] `, out)
}

func TestAppendRFC5424Timezone(t *testing.T) {
	rec := plog.NewLogRecord()
	rec.SetTimestamp(pcommon.NewTimestampFromTime(formatTestTime))
	for loc, want := range map[*time.Location]string{
		time.FixedZone("x", -(3*3600 + 30*60)): "2026-11-22T00:35:06.123456-03:30",
		time.FixedZone("y", 5*3600+45*60):      "2026-11-22T09:50:06.123456+05:45",
	} {
		out := string(AppendRFC5424Header(nil, pcommon.Map{}, rec, &RFC5424Options{Location: loc}))
		assert.Equal(t, "<14>1 "+want+" - - - - - ", out)
		// The stdlib agrees.
		_, err := time.Parse(time.RFC3339Nano, want)
		require.NoError(t, err)
	}
}

func TestAppendRFC5424ExtraSD(t *testing.T) {
	rec := formatTestRecord()
	rec.Attributes().PutStr("cfjs1.format", `a"b`)
	rec.Attributes().PutInt(logattr.PeerPID, 5)
	rec.Attributes().PutStr(logattr.SyslogFacility, "4") // string form accepted
	o := &RFC5424Options{SDID: "logx@32473", SDAttributes: []string{"cfjs1.format", "absent", logattr.PeerPID}}
	require.NoError(t, o.Validate())
	out := string(AppendRFC5424Header(nil, pcommon.Map{}, rec, o))
	assert.Contains(t, out, `[origin ip="192.0.2.1"][logx@32473 cfjs1.format="a\"b" peer.pid="5"] `)
	assert.True(t, strings.HasPrefix(out, "<35>1 "), out)

	// No attribute present: no empty element.
	out = string(AppendRFC5424Header(nil, pcommon.Map{}, plog.NewLogRecord(), o))
	assert.Equal(t, "<14>1 - - - - - - ", out)
}

func TestRFC5424OptionsValidate(t *testing.T) {
	require.NoError(t, (&RFC5424Options{}).Validate())
	bad := []RFC5424Options{
		{Facility: 24},
		{Hostname: "has space"},
		{AppName: strings.Repeat("x", 49)},
		{SDAttributes: []string{"a"}},
		{SDID: "bad=id", SDAttributes: []string{"a"}},
		{SDID: "ok", SDAttributes: []string{`q"uote`}},
	}
	for _, o := range bad {
		assert.Error(t, o.Validate(), "%+v", o)
	}
}

func TestAppendRFC5424BodyTypes(t *testing.T) {
	rec := plog.NewLogRecord()
	rec.Body().SetInt(42)
	assert.True(t, strings.HasSuffix(string(AppendRFC5424(nil, pcommon.Map{}, rec, &RFC5424Options{})), " 42"))
	rec.Body().SetEmptyMap().PutStr("k", "v")
	assert.True(t, strings.HasSuffix(string(AppendRFC5424(nil, pcommon.Map{}, rec, &RFC5424Options{})), ` {"k":"v"}`))
}

func TestAppendRFC5424Allocs(t *testing.T) {
	rec := formatTestRecord()
	res := pcommon.NewMap()
	res.PutStr(logattr.HostName, "h")
	o := &RFC5424Options{SDID: "logx@32473", SDAttributes: []string{logattr.SyslogAppName}}
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(1000, func() {
		buf = AppendRFC5424(buf[:0], res, rec, o)
	})
	assert.Zero(t, allocs)
}

func BenchmarkAppendRFC5424(b *testing.B) {
	rec := formatTestRecord()
	rec.Body().SetStr(strings.Repeat("x", 200))
	o := &RFC5424Options{}
	buf := make([]byte, 0, 1024)
	buf = AppendRFC5424(buf[:0], pcommon.Map{}, rec, o)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRFC5424(buf[:0], pcommon.Map{}, rec, o)
	}
}
