//go:build unix

package externaljsonprocessor

import (
	"errors"
	"os/exec"
	"syscall"
)

// setProcessGroup starts the command as the leader of a new process group
// and makes cancellation SIGKILL the whole group, not only the leader, so that
// children of a shell script do not outlive its timeout.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return err
	}
}
