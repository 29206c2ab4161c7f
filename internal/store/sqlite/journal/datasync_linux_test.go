package journal

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSyncRange(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	barrier, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer barrier.Close()
	if _, err := f.WriteAt(make([]byte, 8192), 0); err != nil {
		t.Fatal(err)
	}
	for _, holdP := range []bool{true, false} {
		if _, err := f.WriteAt([]byte("record"), 4090); err != nil {
			t.Fatal(err)
		}
		if err := syncRange(f, 4090, 6, barrier, holdP); err != nil {
			t.Errorf("syncRange(holdP=%v): %v", holdP, err)
		}
	}
	if err := syncRange(f, -1, 6, barrier, false); err == nil {
		t.Error("syncRange of a negative offset: no error")
	}
	f.Close()
	if err := syncRange(f, 0, 6, barrier, false); err == nil {
		t.Error("syncRange of a closed file: no error")
	}
}

// TestRangeSyncBarrier: syncRange is used only on ext4 without a journal;
// anywhere else, or when that cannot be told, appends keep fdatasync.
func TestRangeSyncBarrier(t *testing.T) {
	for _, dir := range []string{"/dev/shm", filepath.Join(t.TempDir(), "missing")} {
		if b, err := rangeSyncBarrier(dir); b != nil || err != nil {
			t.Errorf("rangeSyncBarrier(%s) = %v, %v; want nil, nil", dir, b, err)
		}
	}
	dir := t.TempDir()
	b, err := rangeSyncBarrier(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b == nil {
		t.Logf("%s is not on ext4 without a journal: appends use fdatasync", dir)
		return
	}
	defer b.Close()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type != unix.EXT4_SUPER_MAGIC {
		t.Errorf("barrier on a filesystem of type %#x, not ext4", fs.Type)
	}
}
