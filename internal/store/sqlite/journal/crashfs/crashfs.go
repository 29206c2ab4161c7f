// Package crashfs is a journal.FS in memory that is strict about
// durability: a simulated power cut (Crash) keeps only what was synced.
// A file's bytes survive once File.Sync covered them, or File.SyncRange
// covered them inside the size the last Sync made durable; a directory
// entry (a file created, renamed or removed) survives once SyncDir of its
// directory followed. Every write, sync, rename, create and remove is a
// point where a test can cut the power (BeforeOp).
//
// It is one directory: files are known by their base names, whatever
// directory a path names, so that what a power cut left can be recovered
// beside a copy of the database in another directory.
package crashfs

import (
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"github.com/hookline/hookline/internal/store/sqlite/journal"
)

// FS is the file system. Its zero value is not usable; call New.
type FS struct {
	mu      sync.Mutex
	live    map[string]*inode // the directory entries as seen now
	durable map[string]*inode // the directory entries a power cut keeps
	ops     int
	// BeforeOp, when set, is called before each operation that changes
	// something, with the number of such operations before it and the
	// operation's name, outside the file system's lock (it may call Crash).
	BeforeOp func(n int, op string)
	// NoSync makes every sync a no-op: the mutation that durability tests
	// must catch.
	NoSync bool
	// SkipSync, when set, makes the syncs it returns true for no-ops, with
	// the operation's name, after BeforeOp: the mutation check of one sync
	// point at a time.
	SkipSync func(op string) bool
	// FailSync, when set, is asked before each sync (Sync, SyncRange,
	// SyncDir) with the number of operations before it and the
	// operation's name; an error fails that sync the way a failed
	// writeback does on Linux: as it starts, the bytes it would have made
	// durable are dropped from what a power cut keeps, and no later sync
	// writes them until they are written again (the kernel marks the
	// pages clean); the error is returned when it ends, after BeforeOp,
	// so a test can hold a failing sync while others run.
	FailSync func(n int, op string) error
}

type inode struct {
	data   []byte // as reads see it
	synced []byte // as a power cut leaves it
	lost   []bool // per byte of data: its writeback failed, so syncs skip it; nil when none
}

// New returns an empty file system.
func New() *FS {
	return &FS{live: map[string]*inode{}, durable: map[string]*inode{}}
}

var _ journal.FS = (*FS)(nil)

// Crash returns the file system a power cut now would leave: the synced
// bytes of the files whose entries were synced.
func (c *FS) Crash() *FS {
	c.mu.Lock()
	defer c.mu.Unlock()
	return withSyncedBytes(c.durable)
}

// CrashKeepingEntries returns what a power cut now would leave on a file
// system that wrote its directory entries early, as one with a metadata
// journal may at any commit: every file created, renamed or removed so far
// stays so, with only its synced bytes.
func (c *FS) CrashKeepingEntries() *FS {
	c.mu.Lock()
	defer c.mu.Unlock()
	return withSyncedBytes(c.live)
}

// withSyncedBytes is a new file system of entries, each file holding only
// its synced bytes, every entry durable: what a power cut leaves.
func withSyncedBytes(entries map[string]*inode) *FS {
	out := New()
	for name, ino := range entries {
		kept := &inode{data: slices.Clone(ino.synced), synced: slices.Clone(ino.synced)}
		out.live[name], out.durable[name] = kept, kept
	}
	return out
}

// Ops returns how many operations that change something have run.
func (c *FS) Ops() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops
}

// Corrupt flips the bits of the byte at off of a file, durably, as a bad
// disk block would.
func (c *FS) Corrupt(name string, off int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ino := c.live[filepath.Base(name)]
	if ino == nil || off >= int64(len(ino.data)) {
		return fmt.Errorf("corrupt %s at %d: no such byte", name, off)
	}
	ino.data[off] ^= 0xff
	if off < int64(len(ino.synced)) {
		ino.synced[off] = ino.data[off]
	}
	return nil
}

// op counts an operation and calls BeforeOp.
func (c *FS) op(name string) {
	c.mu.Lock()
	n := c.ops
	c.ops++
	before := c.BeforeOp
	c.mu.Unlock()
	if before != nil {
		before(n, name)
	}
}

// syncOp counts a sync and asks FailSync about it. When it fails, lose
// (called under mu) drops what the sync would have made durable; then,
// failing or not, BeforeOp is called.
func (c *FS) syncOp(name string, lose func()) error {
	c.mu.Lock()
	n := c.ops
	c.ops++
	before, fail := c.BeforeOp, c.FailSync
	c.mu.Unlock()
	var err error
	if fail != nil {
		if err = fail(n, name); err != nil && lose != nil {
			c.mu.Lock()
			lose()
			c.mu.Unlock()
		}
	}
	if before != nil {
		before(n, name)
	}
	return err
}

// skip reports whether the sync op is to be a no-op (NoSync, SkipSync).
func (c *FS) skip(op string) bool {
	return c.NoSync || c.SkipSync != nil && c.SkipSync(op)
}

// loseRange marks bytes [off, end) of ino that a power cut would not keep
// as lost: a failed writeback.
func (ino *inode) loseRange(off, end int64) {
	end = min(end, int64(len(ino.data)))
	for i := max(off, 0); i < end; i++ {
		if i >= int64(len(ino.synced)) || ino.synced[i] != ino.data[i] {
			if ino.lost == nil {
				ino.lost = make([]bool, len(ino.data))
			}
			ino.lost[i] = true
		}
	}
}

// syncRange copies bytes [off, end) of data to synced, except lost ones.
// The caller holds mu and has made synced long enough.
func (ino *inode) syncRange(off, end int64) {
	if ino.lost == nil {
		copy(ino.synced[off:end], ino.data[off:end])
		return
	}
	for i := off; i < end; i++ {
		if i >= int64(len(ino.lost)) || !ino.lost[i] {
			ino.synced[i] = ino.data[i]
		}
	}
}

func (c *FS) OpenFile(name string, flag int, perm fs.FileMode) (journal.File, error) {
	c.mu.Lock()
	ino := c.live[filepath.Base(name)]
	c.mu.Unlock()
	if ino == nil {
		if flag&os.O_CREATE == 0 {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		c.op("create " + filepath.Base(name))
		c.mu.Lock()
		ino = &inode{}
		c.live[filepath.Base(name)] = ino
		c.mu.Unlock()
	}
	return &file{fs: c, ino: ino, name: name}, nil
}

func (c *FS) ReadFile(name string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ino := c.live[filepath.Base(name)]
	if ino == nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(ino.data), nil
}

func (c *FS) Rename(oldpath, newpath string) error {
	oldpath, newpath = filepath.Base(oldpath), filepath.Base(newpath)
	c.mu.Lock()
	_, ok := c.live[oldpath]
	c.mu.Unlock()
	if !ok {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrNotExist}
	}
	c.op("rename " + oldpath + " " + newpath)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live[newpath] = c.live[oldpath]
	delete(c.live, oldpath)
	return nil
}

func (c *FS) Remove(name string) error {
	name = filepath.Base(name)
	c.mu.Lock()
	_, ok := c.live[name]
	c.mu.Unlock()
	if !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	c.op("remove " + name)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.live, name)
	return nil
}

func (c *FS) ReadDir(dir string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for name := range c.live {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// Names returns the names of every file, sorted.
func (c *FS) Names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for name := range c.live {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func (c *FS) SyncDir(dir string) error {
	if err := c.syncOp("syncdir", nil); err != nil {
		return err
	}
	if c.skip("syncdir") {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.durable = maps.Clone(c.live)
	return nil
}

type file struct {
	fs     *FS
	ino    *inode
	name   string
	closed bool
}

func (f *file) Name() string { return f.name }

func (f *file) Close() error {
	if f.closed {
		return fs.ErrClosed
	}
	f.closed = true
	return nil
}

func (f *file) WriteAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	f.fs.op("write " + filepath.Base(f.name))
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(f.ino.data)) {
		f.ino.data = append(f.ino.data, make([]byte, end-int64(len(f.ino.data)))...)
	}
	copy(f.ino.data[off:], p)
	if f.ino.lost != nil {
		if len(f.ino.lost) < len(f.ino.data) {
			f.ino.lost = append(f.ino.lost, make([]bool, len(f.ino.data)-len(f.ino.lost))...)
		}
		clear(f.ino.lost[off : off+int64(len(p))]) // dirty again
	}
	return len(p), nil
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if off >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.ino.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *file) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return int64(len(f.ino.data)), nil
}

func (f *file) Sync() error {
	if f.closed {
		return fs.ErrClosed
	}
	if err := f.fs.syncOp("sync "+filepath.Base(f.name), func() { f.ino.loseRange(0, int64(len(f.ino.data))) }); err != nil {
		return err
	}
	if f.fs.skip("sync " + filepath.Base(f.name)) {
		return nil
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if n := len(f.ino.data); len(f.ino.synced) != n {
		f.ino.synced = append(f.ino.synced[:min(len(f.ino.synced), n)], make([]byte, max(0, n-len(f.ino.synced)))...)
	}
	f.ino.syncRange(0, int64(len(f.ino.data)))
	return nil
}

func (f *file) SyncRange(off, n int64) error {
	if f.closed {
		return fs.ErrClosed
	}
	if err := f.fs.syncOp("syncrange "+filepath.Base(f.name), func() { f.ino.loseRange(off, off+n) }); err != nil {
		return err
	}
	if f.fs.skip("syncrange " + filepath.Base(f.name)) {
		return nil
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	end := min(off+n, int64(len(f.ino.synced)), int64(len(f.ino.data)))
	if off < end {
		f.ino.syncRange(off, end)
	}
	return nil
}
