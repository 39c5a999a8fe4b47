//go:build !unix

package externaljsonprocessor

import "os/exec"

// setProcessGroup: without process groups only the process itself is killed
// at the timeout (exec's default Cancel).
func setProcessGroup(*exec.Cmd) {}
