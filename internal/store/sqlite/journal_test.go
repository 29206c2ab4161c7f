package sqlite_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// TestJournalReplay publishes events that reach only the journal, copies
// the data directory as a crash would leave it, and opens the copy: every
// event whose append completed is there with its deliveries, claimable, and
// a record cut short is not.
func TestJournalReplay(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	now := time.Now().UTC().Truncate(time.Millisecond)
	s, err := sqlite.Open(ctx, filepath.Join(dir, "hookline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ep := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "https://example.test/", EnabledEvents: []string{"*"},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x", Created: now, Updated: now}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	sqlite.PauseFlushes(s)

	publish := func(key string) *hookline.Event {
		ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{"k":"` + key + `"}`), IdempotencyKey: key}
		_, err := s.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{
			Now: now, IdempotencyWindow: time.Hour, LeaseOwner: "crashed-node", LeaseExpires: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	kept := publish("first")
	segment, afterFirst := sqlite.JournalTail(s)
	torn := publish("second")
	if _, end := sqlite.JournalTail(s); end <= afterFirst {
		t.Fatalf("journal did not grow: %d then %d", afterFirst, end)
	}

	crash := t.TempDir()
	for _, name := range []string{"hookline.db", "hookline.db-wal", filepath.Base(segment)} {
		copyFile(t, filepath.Join(dir, name), filepath.Join(crash, name))
	}
	// Cut the second record short, as a crash during its write would.
	f, err := os.OpenFile(filepath.Join(crash, filepath.Base(segment)), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 16), afterFirst+12); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r, err := sqlite.Open(ctx, filepath.Join(crash, "hookline.db"))
	if err != nil {
		t.Fatalf("reopening after the crash: %v", err)
	}
	defer r.Close()
	got, err := r.Event(ctx, kept.ID)
	if err != nil {
		t.Fatalf("journaled event lost: %v", err)
	}
	if string(got.Payload) != string(kept.Payload) || got.IdempotencyKey != "first" {
		t.Errorf("replayed event = %+v, want %+v", got, kept)
	}
	if _, err := r.Event(ctx, torn.ID); !isNotFound(err) {
		t.Errorf("event of the torn record: err %v, want not found", err)
	}
	// The crashed node's lease is released: the delivery is due now.
	tasks, err := r.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "n2", Now: now.Add(time.Second), Lease: time.Minute, Limit: 10, MaxConcurrency: hookline.MaxMaxConcurrency})
	if err != nil || len(tasks) != 1 || tasks[0].Event.ID != kept.ID || tasks[0].Endpoint.ID != ep.ID {
		t.Fatalf("ClaimTasks after replay = %v, %v; want the replayed delivery", tasks, err)
	}
	// The idempotency key came back too.
	dup := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{}`), IdempotencyKey: "first"}
	ps, err := r.PublishEvents(ctx, []*hookline.Event{dup}, hookline.PublishOptions{Now: now, IdempotencyWindow: time.Hour})
	if err != nil || !ps[0].Duplicate || ps[0].Event.ID != kept.ID {
		t.Fatalf("republishing the key: %+v, %v; want a duplicate of %s", ps, err, kept.ID)
	}
	// Replayed segments are retired once flushed: only the spare and the
	// new segment remain.
	entries, _ := os.ReadDir(crash)
	var journals []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".journal.") {
			journals = append(journals, e.Name())
		}
	}
	if len(journals) != 2 {
		t.Errorf("journal files after replay: %v, want the spare and the current segment", journals)
	}
}

func isNotFound(err error) bool {
	var he *hookline.Error
	return errors.As(err, &he) && he.Code == hookline.ENOTFOUND
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
}
