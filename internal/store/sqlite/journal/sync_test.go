package journal

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func openOS(t *testing.T) *Journal {
	t.Helper()
	j, _, err := Open(t.TempDir(), "hookline.db.journal.", Options{Sync: true, SegmentSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	j.osfs.slowUntil.Store(0) // the segment's zero-fill may have been slow
	return j
}

func appendWait(t *testing.T, j *Journal, body int) {
	t.Helper()
	wait, err := j.Append(make([]byte, RecordHeader+body))
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestSyncLeavesPAfterSlowSync: syncs hold their P while they are quick;
// one slower than slowSync makes the next ones, for slowSyncPause, go
// through the scheduler.
func TestSyncLeavesPAfterSlowSync(t *testing.T) {
	j := openOS(t)
	o := j.osfs
	o.slowSync = time.Hour
	appendWait(t, j, 16)
	if until := o.slowUntil.Load(); until != 0 {
		t.Fatalf("a quick sync set slowUntil to %s", time.Unix(0, until))
	}
	if !o.holdP(time.Now()) && runtime.GOMAXPROCS(0) > 1 {
		t.Fatal("syncs leave their P with no slow sync")
	}

	o.slowSync = 0 // every sync is slow
	before := time.Now()
	appendWait(t, j, 16)
	until := time.Unix(0, o.slowUntil.Load())
	if until.Before(before.Add(slowSyncPause)) {
		t.Fatalf("after a slow sync, syncs hold their P again at %s, less than %s from it", until, slowSyncPause)
	}
	if o.holdP(time.Now()) {
		t.Fatal("the sync after a slow one holds its P")
	}
	if !o.holdP(until) && runtime.GOMAXPROCS(0) > 1 {
		t.Fatalf("syncs still leave their P at %s", until)
	}
	appendWait(t, j, 16) // through the scheduler
}

// TestSyncLeavesTheOnlyP: with one P, holding it through a sync would stop
// every goroutine.
func TestSyncLeavesTheOnlyP(t *testing.T) {
	j := openOS(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if j.osfs.holdP(time.Now()) {
		t.Fatal("a sync holds the only P")
	}
	runtime.GOMAXPROCS(2)
	if !j.osfs.holdP(time.Now()) {
		t.Fatal("with two Ps, a sync leaves its P")
	}
}

func TestDatasync(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("data"); err != nil {
		t.Fatal(err)
	}
	for _, holdP := range []bool{true, false} {
		if err := datasync(f, holdP); err != nil {
			t.Errorf("datasync(holdP=%v): %v", holdP, err)
		}
	}
	f.Close()
	for _, holdP := range []bool{true, false} {
		if err := datasync(f, holdP); err == nil {
			t.Errorf("datasync(holdP=%v) of a closed file: no error", holdP)
		}
	}
}
