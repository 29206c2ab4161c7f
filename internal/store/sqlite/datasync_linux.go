package sqlite

import (
	"os"
	"syscall"
)

// datasync flushes f's data, and its metadata only where reading the data
// needs it: an overwrite inside a preallocated journal segment then costs a
// device flush and no filesystem journal commit.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return serr
}
