package sqlite

import (
	"os"
	"syscall"
)

// datasync flushes f's data, and its metadata only where reading the data
// needs it: an overwrite inside a preallocated journal segment then costs a
// device flush and no filesystem journal commit.
//
// With holdP, the calling goroutine keeps its P through the call instead
// of entering the scheduler's syscall state. A blocking call made the usual
// way hands the P to another thread once sysmon notices, parks this thread
// when the call returns, and keeps sysmon polling every 20 µs for a while
// after: on a small virtual machine that costs about ten context switches
// per sync, more CPU than the sync itself. Holding the P is only right
// while syncs are quick: the P runs nothing meanwhile, and a stop-the-world
// waits for the call (see journal.holdP).
func datasync(f *os.File, holdP bool) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if holdP {
				serr = nil
				if _, _, errno := syscall.RawSyscall(syscall.SYS_FDATASYNC, fd, 0, 0); errno != 0 {
					serr = errno
				}
			} else {
				serr = syscall.Fdatasync(int(fd))
			}
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return serr
}
