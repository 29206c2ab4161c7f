package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

// FS is the file system the journal keeps its segments on: the few calls
// it makes, so that tests can run it on one that simulates power cuts
// (crashfs). Paths are full paths.
type FS interface {
	// OpenFile opens a file for reading and writing, creating it with perm
	// when flag has os.O_CREATE.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	ReadFile(name string) ([]byte, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	// ReadDir returns the names of the files in dir.
	ReadDir(dir string) ([]string, error)
	// SyncDir makes the entries of dir (files created, renamed, removed)
	// durable.
	SyncDir(dir string) error
}

// File is an open segment.
type File interface {
	WriteAt(p []byte, off int64) (int, error)
	ReadAt(p []byte, off int64) (int, error)
	Size() (int64, error)
	// Sync makes the file's data and size durable (fdatasync).
	Sync() error
	// SyncRange makes bytes [off, off+n) durable where they overwrite
	// blocks that an earlier Sync made durable; it may leave the file's
	// size and every other byte alone.
	SyncRange(off, n int64) error
	Close() error
	Name() string
}

// A journal sync on the OS holds its P (see datasync) unless one took
// longer than slowSync in the last slowSyncPause: a disk that stalls then
// stalls the publishes waiting for it, not every goroutine at the next
// garbage collection's stop-the-world.
const (
	slowSync      = 5 * time.Millisecond
	slowSyncPause = 10 * time.Second
)

// osFS is FS on the operating system's files.
type osFS struct {
	// barrier, when set, makes SyncRange use syncRange (see
	// rangeSyncBarrier); it is the data directory.
	barrier   *os.File
	slowSync  time.Duration // a sync longer than this makes the next ones leave their P
	slowUntil atomic.Int64  // unix ns: syncs until then leave their P
}

// newOSFS returns the FS of the operating system for a journal in dir.
func newOSFS(dir string) (*osFS, error) {
	b, err := rangeSyncBarrier(dir)
	if err != nil {
		return nil, err
	}
	return &osFS{barrier: b, slowSync: slowSync}, nil
}

func (o *osFS) close() {
	if o.barrier != nil {
		o.barrier.Close()
	}
}

func (o *osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag|os.O_RDWR, perm)
	if err != nil {
		return nil, err
	}
	return &osFile{File: f, fs: o}, nil
}

func (o *osFS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }
func (o *osFS) Rename(a, b string) error             { return os.Rename(a, b) }
func (o *osFS) Remove(name string) error             { return os.Remove(name) }

func (o *osFS) ReadDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

func (o *osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// holdP reports whether a sync starting now should keep its P: not when
// that is the process's only P, which would stop every goroutine for the
// sync, nor for a while after a slow sync.
func (o *osFS) holdP(now time.Time) bool {
	return runtime.GOMAXPROCS(0) > 1 && now.UnixNano() >= o.slowUntil.Load()
}

// timed runs a sync and notes when it was slow.
func (o *osFS) timed(sync func(holdP bool) error) error {
	start := time.Now()
	err := sync(o.holdP(start))
	if took := time.Since(start); took > o.slowSync {
		o.slowUntil.Store(start.Add(took + slowSyncPause).UnixNano())
	}
	return err
}

type osFile struct {
	*os.File
	fs *osFS
}

func (f *osFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (f *osFile) Sync() error {
	return f.fs.timed(func(holdP bool) error { return datasync(f.File, holdP) })
}

// SyncRange uses sync_file_range and the barrier where rangeSyncBarrier
// found that right, else fdatasync, which makes the range durable too.
func (f *osFile) SyncRange(off, n int64) error {
	if f.fs.barrier == nil {
		return f.Sync()
	}
	return f.fs.timed(func(holdP bool) error { return syncRange(f.File, off, n, f.fs.barrier, holdP) })
}

// notExist reports whether err says a file is missing.
func notExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

func wrap(what, name string, err error) error {
	return fmt.Errorf("%s %s: %w", what, name, err)
}
