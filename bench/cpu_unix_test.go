//go:build unix

package bench

import (
	"syscall"
	"time"
)

// cpuTime is the process's user plus system CPU time: with a producer's
// work spread over goroutines, wall time per record understates it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
