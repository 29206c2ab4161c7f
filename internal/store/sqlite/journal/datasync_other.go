//go:build !linux

package journal

import (
	"errors"
	"os"
)

// datasync flushes f; without fdatasync, that is a full fsync, made the
// usual way whatever holdP says.
func datasync(f *os.File, holdP bool) error { return f.Sync() }

// rangeSyncBarrier is nil: only Linux has sync_file_range, so every
// append is made durable by datasync.
func rangeSyncBarrier(dir string) (*os.File, error) { return nil, nil }

func syncRange(f *os.File, off, n int64, barrier *os.File, holdP bool) error {
	return errors.New("sync_file_range is Linux only")
}
