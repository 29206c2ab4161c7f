package sqlite

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestJournalSyncLeavesPAfterSlowSync: syncs hold their P while they are
// quick; one slower than slowSync makes the next ones, for slowSyncPause,
// go through the scheduler.
func TestJournalSyncLeavesPAfterSlowSync(t *testing.T) {
	j := openTestJournal(t)
	sync := func() {
		t.Helper()
		durable, err := j.append(make([]byte, recordHeader+16))
		if err != nil {
			t.Fatal(err)
		}
		if err := durable(); err != nil {
			t.Fatal(err)
		}
	}

	j.slowSync = time.Hour
	sync()
	if until := j.slowUntil.Load(); until != 0 {
		t.Fatalf("a quick sync set slowUntil to %s", time.Unix(0, until))
	}
	if !j.holdP(time.Now()) && runtime.GOMAXPROCS(0) > 1 {
		t.Fatal("syncs leave their P with no slow sync")
	}

	j.slowSync = 0 // every sync is slow
	before := time.Now()
	sync()
	until := time.Unix(0, j.slowUntil.Load())
	if until.Before(before.Add(slowSyncPause)) {
		t.Fatalf("after a slow sync, syncs hold their P again at %s, less than %s from it", until, slowSyncPause)
	}
	if j.holdP(time.Now()) {
		t.Fatal("the sync after a slow one holds its P")
	}
	if !j.holdP(until) && runtime.GOMAXPROCS(0) > 1 {
		t.Fatalf("syncs still leave their P at %s", until)
	}
	sync() // through the scheduler
}

// TestJournalSyncLeavesTheOnlyP: with one P, holding it through a sync
// would stop every goroutine.
func TestJournalSyncLeavesTheOnlyP(t *testing.T) {
	j := openTestJournal(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if j.holdP(time.Now()) {
		t.Fatal("a sync holds the only P")
	}
	runtime.GOMAXPROCS(2)
	if !j.holdP(time.Now()) {
		t.Fatal("with two Ps, a sync leaves its P")
	}
}

func openTestJournal(t *testing.T) *journal {
	t.Helper()
	j, _, err := openJournal(filepath.Join(t.TempDir(), "hookline.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.close() })
	return j
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

// TestJournalSyncsInPlaceInsideTheSegment: with a barrier, appends inside
// the zero-filled segment are synced as a range; one that grows the file
// (a batch larger than a segment) is fdatasync'd, as is everything without
// a barrier. Both kinds of append are durable and replayable.
func TestJournalSyncsInPlaceInsideTheSegment(t *testing.T) {
	j := openTestJournal(t)
	if j.allocated != segmentSize {
		t.Fatalf("a new segment has %d bytes allocated, want %d", j.allocated, segmentSize)
	}
	if j.barrier == nil { // not on ext4 without a journal: test the choice anyway
		b, err := os.Open(j.dir)
		if err != nil {
			t.Fatal(err)
		}
		j.barrier = b // closed with the journal
	}
	barrier := j.barrier
	j.barrier = nil
	if j.inPlace(1) {
		t.Error("in place without a barrier")
	}
	j.barrier = barrier
	for _, tc := range []struct {
		end  int64
		want bool
	}{{1, true}, {segmentSize, true}, {segmentSize + 1, false}} {
		if got := j.inPlace(tc.end); got != tc.want {
			t.Errorf("inPlace(%d) = %v, want %v", tc.end, got, tc.want)
		}
	}

	small := make([]byte, recordHeader+16)
	large := make([]byte, recordHeader+segmentSize) // grows the segment
	var want int
	for _, rec := range [][]byte{small, large, small} {
		durable, err := j.append(rec)
		if err != nil {
			t.Fatal(err)
		}
		if err := durable(); err != nil {
			t.Fatal(err)
		}
		want++
	}
	bodies, err := readSegment(j.f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != want {
		t.Fatalf("replay finds %d records, want %d", len(bodies), want)
	}
}
