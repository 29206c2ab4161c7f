package sqlite

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// backgroundNice is the nice value of the flusher's thread (see
// runInBackground). 10 and 19 measured alike.
const backgroundNice = 10

// runInBackground gives the calling goroutine a thread of its own at
// backgroundNice, so that the kernel runs the process's other threads
// first and this one in the time they leave. The thread ends with the
// goroutine (it stays locked), so no other goroutine ever runs at that
// priority, and threads the runtime starts meanwhile do not inherit it (a
// locked thread has another start them). It reports whether it could.
func runInBackground() bool {
	runtime.LockOSThread()
	if err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), backgroundNice); err != nil {
		runtime.UnlockOSThread()
		return false
	}
	return true
}
