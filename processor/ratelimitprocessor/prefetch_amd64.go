package ratelimitprocessor

// prefetchLine asks the CPU to bring the cache line at addr closer, without
// waiting for it and without faulting whatever addr is (PREFETCHT0).
//
//go:noescape
func prefetchLine(addr uintptr)
