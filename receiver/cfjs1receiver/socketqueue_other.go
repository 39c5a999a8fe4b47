//go:build !linux

package cfjs1receiver

import "net"

// socketQueue cannot reach the kernel's queue here: waiting is unknown
// (a batch then goes before every read), and the low-water mark stays 1.
type socketQueue struct{}

func newSocketQueue(net.Conn) socketQueue { return socketQueue{} }

func (socketQueue) waiting() int { return -1 }

func (socketQueue) setLowWater(int) {}
