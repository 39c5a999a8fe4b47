package configguard

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCommandLine(t *testing.T) {
	for _, c := range []struct {
		args  []string
		mode  Mode
		files []string
	}{
		{[]string{"--config=/etc/otelcol-logx/config.yaml", "--feature-gates=logx.startWithLastGoodConfig"}, ModeRun, []string{"/etc/otelcol-logx/config.yaml"}},
		{[]string{"--config", "configs/default.yaml"}, ModeRun, []string{"configs/default.yaml"}},
		{[]string{"--config=file:/a.yaml", "--config=yaml:receivers::x: {}", "--config", "env:CFG", "--config", "b.yaml"}, ModeRun, []string{"/a.yaml", "b.yaml"}},
		{[]string{"validate", "--config=/etc/x.yaml"}, ModeCheck, []string{"/etc/x.yaml"}},
		{[]string{"--config"}, ModeRun, nil},
		{[]string{"--", "--config=x.yaml"}, ModeRun, nil},
	} {
		mode, files := commandLine(c.args)
		assert.Equal(t, c.mode, mode, "%v", c.args)
		assert.Equal(t, c.files, files, "%v", c.args)
	}
}
