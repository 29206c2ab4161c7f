package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
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
	return fdCall(f, holdP, syscall.SYS_FDATASYNC, 0, 0, 0)
}

// syncRange makes bytes [off, off+n) of f durable, on a filesystem
// rangeSyncBarrier accepted, when they overwrite blocks whose allocation is
// durable already (a zero-filled journal segment): sync_file_range writes
// the range's pages and waits for them, then an fdatasync of barrier, a
// clean file on the same filesystem, flushes the device's write cache.
//
// fdatasync of f would do both, and on ext4 without a journal also write
// f's inode: each write updates the file's mtime once per clock tick, and
// that filesystem writes a changed inode with the file's next sync, needed
// or not. Measured on such a machine under load, that extra write came with
// four syncs in ten and made them a third slower.
func syncRange(f *os.File, off, n int64, barrier *os.File, holdP bool) error {
	const flags = unix.SYNC_FILE_RANGE_WAIT_BEFORE | unix.SYNC_FILE_RANGE_WRITE | unix.SYNC_FILE_RANGE_WAIT_AFTER
	if err := fdCall(f, holdP, unix.SYS_SYNC_FILE_RANGE, uintptr(off), uintptr(n), flags); err != nil {
		return fmt.Errorf("sync_file_range: %w", err)
	}
	if err := datasync(barrier, holdP); err != nil {
		return fmt.Errorf("flushing the device: %w", err)
	}
	return nil
}

// fdCall makes system call trap with f's descriptor and a1..a3, again if
// interrupted; with holdP, without leaving the P (see datasync).
func fdCall(f *os.File, holdP bool, trap, a1, a2, a3 uintptr) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		for {
			if holdP {
				_, _, errno = syscall.RawSyscall6(trap, fd, a1, a2, a3, 0, 0)
			} else {
				_, _, errno = syscall.Syscall6(trap, fd, a1, a2, a3, 0, 0)
			}
			if errno != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// rangeSyncBarrier opens dir as the barrier for syncRange when the
// filesystem holding it writes overwrites in place and has no journal: ext4
// (or ext2/3 through the ext4 driver) made without one. It returns nil where
// syncRange would not be right or would not help:
//   - On a copy-on-write filesystem (btrfs, ZFS) an overwrite allocates new
//     blocks, which only fdatasync makes durable.
//   - With a journal, ext4's fdatasync of an overwrite does not write the
//     inode already, and a directory's fsync would commit the journal.
//
// Every check that cannot be made counts as a no.
func rangeSyncBarrier(dir string) (*os.File, error) {
	if !inPlaceWithoutJournal(dir) {
		return nil, nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("opening data directory: %w", err)
	}
	return d, nil
}

func inPlaceWithoutJournal(dir string) bool {
	var fs unix.Statfs_t
	if unix.Statfs(dir, &fs) != nil || fs.Type != unix.EXT4_SUPER_MAGIC {
		return false
	}
	var st unix.Stat_t
	if unix.Stat(dir, &st) != nil {
		return false
	}
	// ext4 lists each filesystem it mounts under /proc/fs/ext4 by device
	// name, and jbd2 each journal under /proc/fs/jbd2 as "<device>-<inode>".
	dev, err := os.Readlink(fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)))
	if err != nil {
		return false
	}
	name := filepath.Base(dev)
	if _, err := os.Stat(filepath.Join("/proc/fs/ext4", name)); err != nil {
		return false
	}
	journals, err := os.ReadDir("/proc/fs/jbd2")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false
	}
	for _, j := range journals {
		if rest, ok := strings.CutPrefix(j.Name(), name+"-"); ok && rest != "" {
			return false
		}
	}
	return true
}
