//go:build !linux

package cfjs1receiver

import "net"

// socketBytesWaiting cannot ask the kernel here: a paced connection then
// hands its batch over by age only.
func socketBytesWaiting(net.Conn) func() int { return func() int { return -1 } }
