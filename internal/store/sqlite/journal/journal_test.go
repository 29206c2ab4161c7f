package journal_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hookline/hookline/internal/store/sqlite/journal"
	"github.com/hookline/hookline/internal/store/sqlite/journal/crashfs"
)

const (
	dir    = "/data"
	prefix = "hookline.db.journal."
)

func open(t *testing.T, fs *crashfs.FS, log *slog.Logger) (*journal.Journal, []*journal.Segment) {
	t.Helper()
	j, segs, err := journal.Open(dir, prefix, journal.Options{FS: fs, Sync: true, SegmentSize: 4096, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return j, segs
}

func record(body string) []byte {
	return append(make([]byte, journal.RecordHeader), body...)
}

func bodies(segs []*journal.Segment) []string {
	var out []string
	for _, s := range segs {
		for _, r := range s.Records {
			out = append(out, string(r))
		}
	}
	return out
}

func mustAppend(t *testing.T, j *journal.Journal, body string) {
	t.Helper()
	wait, err := j.Append(record(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestNoRecordOfAnEarlierLife: a segment retired as the spare and reused
// keeps its old bytes, but none of its old records validates again, and
// numbers keep growing across clean restarts (the spare's header keeps its
// number), even with no numbered segment left.
func TestNoRecordOfAnEarlierLife(t *testing.T) {
	fs := crashfs.New()
	j, _ := open(t, fs, nil)
	for i := range 5 {
		mustAppend(t, j, fmt.Sprintf("first life %d", i))
	}
	path, _ := j.Tail()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Retire(path); err != nil { // a clean stop: everything flushed
		t.Fatal(err)
	}
	j, segs := open(t, fs, nil)
	if got := bodies(segs); len(got) != 0 {
		t.Fatalf("a retired segment replayed: %q", got)
	}
	second, _ := j.Tail()
	if seqOf(t, second) <= seqOf(t, path) {
		t.Errorf("the segment after %s is %s: numbering restarted", path, second)
	}
	// A power cut now: the reused spare holds the first life's records.
	segs = reopen(t, fs.Crash(), nil)
	if got := bodies(segs); len(got) != 0 {
		t.Fatalf("records of the segment's earlier life validated again: %q", got)
	}
}

func reopen(t *testing.T, fs *crashfs.FS, log *slog.Logger) []*journal.Segment {
	t.Helper()
	j, segs := open(t, fs, log)
	j.Close()
	return segs
}

// TestAcknowledgedBelowTheWatermark: a wait returns only once every
// record written before its own is durable too, so two appenders cannot
// leave an acknowledged record after a lost one.
func TestAcknowledgedBelowTheWatermark(t *testing.T) {
	fs := crashfs.New()
	j, _ := open(t, fs, nil)
	waitA, err := j.Append(record("A"))
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, j, "B") // acknowledged while A's wait has not run
	crashed := fs.Crash()
	if err := waitA(); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if got := bodies(reopen(t, crashed, nil)); strings.Join(got, ",") != "A,B" {
		t.Fatalf("after B was acknowledged and the power cut: %q, want A and B", got)
	}
}

// TestGrowingRecordIsDurable: a record larger than the segment grows the
// file, which a range sync does not make durable; the journal syncs the
// whole file then.
func TestGrowingRecordIsDurable(t *testing.T) {
	fs := crashfs.New()
	j, _ := open(t, fs, nil)
	large := strings.Repeat("x", 10000)
	for _, b := range []string{"small", large, "after"} {
		if !j.Fits(journal.RecordHeader + len(b)) {
			if _, err := j.Rotate(); err != nil {
				t.Fatal(err)
			}
		}
		mustAppend(t, j, b)
	}
	crashed := fs.Crash()
	j.Close()
	if got := bodies(reopen(t, crashed, nil)); len(got) != 3 || got[1] != large {
		t.Fatalf("after a power cut: %d records, want 3 with the large one", len(got))
	}
}

// TestDamagedRecord: a flipped byte anywhere in a record loses that record
// alone: replay logs the file and offset, marks the segment damaged and
// recovers every record after it.
func TestDamagedRecord(t *testing.T) {
	const n = 6
	fs := crashfs.New()
	j, _ := open(t, fs, nil)
	var ends []int64
	_, start := j.Tail()
	for i := range n {
		mustAppend(t, j, fmt.Sprintf("record %d with some body", i))
		_, end := j.Tail()
		ends = append(ends, end)
	}
	path, _ := j.Tail()
	j.Close()
	for rec := range n {
		from := start
		if rec > 0 {
			from = ends[rec-1]
		}
		for off := from; off < ends[rec]; off++ {
			crashed := fs.Crash()
			if err := crashed.Corrupt(path, off); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			segs := reopen(t, crashed, slog.New(slog.NewTextHandler(&logs, nil)))
			got := bodies(segs)
			if len(got) != n-1 {
				t.Fatalf("byte %d of record %d flipped: %d records replayed, want %d", off, rec, len(got), n-1)
			}
			for _, b := range got {
				if b == fmt.Sprintf("record %d with some body", rec) {
					t.Fatalf("byte %d of record %d flipped: the record still replayed", off, rec)
				}
			}
			if rec < n-1 && (!segs[0].Damaged || !strings.Contains(logs.String(), "journal record damaged") ||
				!strings.Contains(logs.String(), path) || !strings.Contains(logs.String(), fmt.Sprintf("offset=%d", from))) {
				t.Fatalf("byte %d of record %d flipped: damaged=%v, log:\n%s", off, rec, segs[0].Damaged, logs.String())
			}
		}
	}
}

// TestSetAside: a damaged segment is renamed aside, never replayed again
// or reused, and its number is not given again.
func TestSetAside(t *testing.T) {
	fs := crashfs.New()
	j, _ := open(t, fs, nil)
	path, _ := j.Tail()
	j.Close()
	if err := j.SetAside(path); err != nil {
		t.Fatal(err)
	}
	j, segs := open(t, fs, nil)
	defer j.Close()
	if len(segs) != 0 {
		t.Fatalf("a segment set aside replayed: %+v", segs)
	}
	next, _ := j.Tail()
	if next == path {
		t.Fatalf("the number of the segment set aside was given again: %s", next)
	}
	if !slices.Contains(fs.Names(), filepath.Base(path)+".damaged") {
		t.Fatalf("files %v, want %s.damaged", fs.Names(), path)
	}
}

func seqOf(t *testing.T, path string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(path[strings.LastIndexByte(path, '.')+1:], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEarlierFormats: a segment of format version 0 (before headers),
// left by a crash before an upgrade, is replayed, stopping at its first
// bad record; a segment of a newer version than this one reads is refused
// rather than recycled.
func TestEarlierFormats(t *testing.T) {
	legacy := func(seq uint64, bodies ...string) []byte {
		var out []byte
		var n8 [8]byte
		binary.LittleEndian.PutUint64(n8[:], seq)
		for _, b := range bodies {
			rec := binary.LittleEndian.AppendUint32(nil, uint32(len(b)))
			sum := crc32.Update(crc32.Checksum(n8[:], crc32.MakeTable(crc32.Castagnoli)), crc32.MakeTable(crc32.Castagnoli), []byte(b))
			rec = binary.LittleEndian.AppendUint32(rec, sum)
			out = append(out, append(rec, b...)...)
		}
		return append(out, make([]byte, 64)...)
	}
	fs := crashfs.New()
	write := func(name string, data []byte) {
		f, err := fs.OpenFile(dir+"/"+name, os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(data, 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	write(prefix+"7", legacy(7, "one", "two"))
	j, segs := open(t, fs, nil)
	j.Close()
	if len(segs) != 1 || !segs[0].Legacy || strings.Join(bodies(segs), ",") != "one,two" {
		t.Fatalf("version 0 segment replayed as %+v", segs)
	}
	if next, _ := j.Tail(); seqOf(t, next) != 8 {
		t.Errorf("after segment 7 the journal started %s", next)
	}

	newer := crashfs.New()
	h := make([]byte, journal.HeaderSize)
	copy(h, "HLJOURNL")
	binary.LittleEndian.PutUint32(h[8:12], journal.Version+1)
	binary.LittleEndian.PutUint64(h[16:24], 3)
	binary.LittleEndian.PutUint32(h[12:16], crc32.Checksum(h[16:32], crc32.MakeTable(crc32.Castagnoli)))
	fs = newer
	write(prefix+"3", h)
	if _, _, err := journal.Open(dir, prefix, journal.Options{FS: newer}); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("opening a journal of a newer format: %v, want an error naming the version", err)
	}
}

// TestConcurrentAppenders: appends from many goroutines, across rotations,
// are each durable once their waits return.
func TestConcurrentAppenders(t *testing.T) {
	fs := crashfs.New()
	j, _ := open(t, fs, nil)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				body := fmt.Sprintf("g%d-%03d %s", g, i, strings.Repeat("x", 200))
				mu.Lock() // rotation is the caller's, as in the store (under its jmu)
				if !j.Fits(journal.RecordHeader + len(body)) {
					if _, err := j.Rotate(); err != nil {
						t.Error(err)
					}
				}
				wait, err := j.Append(record(body))
				mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				if err := wait(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	crashed := fs.Crash()
	j.Close()
	if got := bodies(reopen(t, crashed, nil)); len(got) != 8*40 {
		t.Fatalf("after a power cut %d records, want %d", len(got), 8*40)
	}
}
