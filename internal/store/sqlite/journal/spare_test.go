package journal_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"testing"

	"github.com/hookline/hookline/internal/store/sqlite/journal"
	"github.com/hookline/hookline/internal/store/sqlite/journal/crashfs"
)

// writeSynced writes a file of fs whose bytes and entry are durable.
func writeSynced(t *testing.T, fs *crashfs.FS, name string, data []byte) {
	t.Helper()
	f, err := fs.OpenFile(dir+"/"+name, os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := fs.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
}

// TestNumbersNeverRepeat: with a spare left from an earlier segment, a
// clean stop retires the current segment over it rather than deleting it,
// so the next start still numbers after it.
func TestNumbersNeverRepeat(t *testing.T) {
	fs := crashfs.New()
	j, _ := open(t, fs, nil)
	mustAppend(t, j, "one")
	first, err := j.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Retire(first); err != nil { // the spare
		t.Fatal(err)
	}
	mustAppend(t, j, "two")
	second, _ := j.Tail()
	j.Close()
	if err := j.Retire(second); err != nil { // a clean stop
		t.Fatal(err)
	}
	j, _ = open(t, fs, nil)
	defer j.Close()
	if third, _ := j.Tail(); seqOf(t, third) <= seqOf(t, second) {
		t.Errorf("after %s the next start began %s: a number given twice", second, third)
	}
}

// TestInheritedSpareZeroFilledAgain: a spare an earlier process left is
// zero-filled again before reuse (a crash in its zero-fill may have left
// blocks whose allocation is not durable, which a range sync would not
// make durable), once; a spare this process zero-filled is reused as is.
func TestInheritedSpareZeroFilledAgain(t *testing.T) {
	const size = 4096 // open's segment size
	h := make([]byte, journal.HeaderSize)
	copy(h, "HLJOURNL")
	binary.LittleEndian.PutUint32(h[8:12], journal.Version)
	binary.LittleEndian.PutUint64(h[16:24], 5)
	binary.LittleEndian.PutUint32(h[12:16], crc32.Checksum(h[16:32], crc32.MakeTable(crc32.Castagnoli)))
	stale := append(h, bytes.Repeat([]byte{0xAA}, size-journal.HeaderSize)...)
	fs := crashfs.New()
	writeSynced(t, fs, prefix+"spare", stale)
	j, _ := open(t, fs, nil)
	defer j.Close()
	path, _ := j.Tail()
	if seqOf(t, path) != 6 {
		t.Fatalf("with a spare numbered 5 the journal started %s", path)
	}
	data, err := fs.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.IndexByte(data[journal.HeaderSize:], 0xAA); i >= 0 {
		t.Fatalf("the inherited spare was reused without a zero-fill: a stale byte at %d", journal.HeaderSize+i)
	}

	// Reusing a spare this process made costs a header write, not a fill.
	mustAppend(t, j, "x")
	old, err := j.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Retire(old); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, j, "y")
	writes := 0
	fs.BeforeOp = func(_ int, op string) {
		if op[:5] == "write" {
			writes++
		}
	}
	if _, err := j.Rotate(); err != nil {
		t.Fatal(err)
	}
	fs.BeforeOp = nil
	if writes != 1 {
		t.Errorf("reusing this process's spare made %d writes, want 1 (the header)", writes)
	}
}

// TestHeaderlessSpareRemoved: a spare of the format before headers keeps
// no number, so reusing it could give it the number its old records
// validate for; it is removed at Open instead, and no power cut during
// Open, even one that keeps directory entries not yet synced, brings its
// records back.
func TestHeaderlessSpareRemoved(t *testing.T) {
	fs := crashfs.New()
	writeSynced(t, fs, prefix+"spare", legacySegment(1, "purged one", "purged two"))
	var cuts []*crashfs.FS
	fs.BeforeOp = func(int, string) { cuts = append(cuts, fs.CrashKeepingEntries(), fs.Crash()) }
	j, _ := open(t, fs, nil)
	fs.BeforeOp = nil
	j.Close()
	cuts = append(cuts, fs.CrashKeepingEntries())
	for i, c := range cuts {
		if got := bodies(reopen(t, c, nil)); len(got) != 0 {
			t.Fatalf("power cut %d during Open: the old spare's records are back: %q", i/2, got)
		}
	}
	for _, name := range fs.Names() {
		if name == prefix+"spare" {
			t.Errorf("the spare without a header is still there: %q", fs.Names())
		}
	}
}

// legacySegment is a segment of format version 0: records of length,
// CRC-32C of seq and body, body; no header.
func legacySegment(seq uint64, bodies ...string) []byte {
	var out []byte
	var n8 [8]byte
	binary.LittleEndian.PutUint64(n8[:], seq)
	tab := crc32.MakeTable(crc32.Castagnoli)
	for _, b := range bodies {
		rec := binary.LittleEndian.AppendUint32(nil, uint32(len(b)))
		rec = binary.LittleEndian.AppendUint32(rec, crc32.Update(crc32.Checksum(n8[:], tab), tab, []byte(b)))
		out = append(out, append(rec, b...)...)
	}
	return append(out, make([]byte, 64)...)
}
