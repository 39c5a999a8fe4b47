package configguard

import "go.opentelemetry.io/collector/featuregate"

// StartWithLastGoodGate lets a process start on the last good configuration
// when the configuration it is given is invalid. Off by default, so that an
// interactive run fails loudly on a broken file as the upstream collector
// does; the shipped systemd unit turns it on, where a daemon that does not
// start leaves every FIFO writer blocked.
var StartWithLastGoodGate = featuregate.GlobalRegistry().MustRegister(
	"logx.startWithLastGoodConfig",
	featuregate.StageAlpha,
	featuregate.WithRegisterDescription("When the configuration is invalid at start, start on the last configuration that started successfully ($LOGX_STATE_DIR/last-good-config.yaml) and log a warning"),
	featuregate.WithRegisterFromVersion("v0.1.0"),
)
