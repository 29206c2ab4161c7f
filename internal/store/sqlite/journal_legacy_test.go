package sqlite

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite/journal"
)

// TestReplayVersion0Segment: a segment written before the journal had a
// format version (records without kinds), left by a crash, is replayed by
// the upgraded store.
func TestReplayVersion0Segment(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookline.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	now := ms(time.Now())
	pe := &pendingEvent{id: hookline.NewID("evt"), typ: "a.b", created: now, payload: []byte(`{"v":0}`), published: now}
	body := encodeRecord([]*pendingEvent{pe})[journal.RecordHeader+1:] // no kind
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	seq := binary.LittleEndian.AppendUint64(nil, 1)
	rec := binary.LittleEndian.AppendUint32(nil, uint32(len(body)))
	rec = binary.LittleEndian.AppendUint32(rec, crc32.Update(crc32.Checksum(seq, castagnoli), castagnoli, body))
	if err := os.WriteFile(path+".journal.1", append(append(rec, body...), make([]byte, 64)...), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Event(ctx, pe.id)
	if err != nil || string(got.Payload) != `{"v":0}` {
		t.Fatalf("event of a version 0 segment: %+v, %v", got, err)
	}
}
