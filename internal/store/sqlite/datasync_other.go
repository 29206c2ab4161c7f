//go:build !linux

package sqlite

import "os"

// datasync flushes f; without fdatasync, that is a full fsync, made the
// usual way whatever holdP says.
func datasync(f *os.File, holdP bool) error { return f.Sync() }
