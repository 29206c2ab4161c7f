package sqlite_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/store/sqlite/journal/crashfs"
)

// TestCompletionDuringFailedFlush: a completion that arrives while a flush
// is writing its event, a flush that then fails, must not return nil with
// the delivery left pending (to be sent again): either it is recorded, or
// CompleteTasks says it is not.
func TestCompletionDuringFailedFlush(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookline.db")
	now := time.Now().UTC().Truncate(time.Millisecond)
	s, ep := openWithEndpoint(t, path, now)
	defer s.Close()
	sqlite.PauseFlushes(s)
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A slow failing insert keeps the flush's event marked flushing long
	// enough for the completion to arrive meanwhile.
	for _, q := range []string{`CREATE TABLE failflag (x)`, `INSERT INTO failflag VALUES (1)`,
		`CREATE TRIGGER fail_flush BEFORE INSERT ON events WHEN (SELECT count(*) FROM failflag) > 0 BEGIN
		   SELECT RAISE(ABORT, 'injected flush failure') WHERE (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 300000) SELECT count(*) FROM c) > 0;
		 END`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{}`)}
	ps, err := s.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: now, LeaseOwner: "n1", LeaseExpires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	flushErr := make(chan error)
	go func() { _, _, err := s.ListEvents(ctx, hookline.EventFilter{}); flushErr <- err }() // a read flushes first
	time.Sleep(50 * time.Millisecond)
	a := hookline.Attempt{ID: hookline.NewID("atm"), DeliveryID: ps[0].Tasks[0].DeliveryID, EventID: ev.ID, EndpointID: ep.ID,
		Attempt: 1, Created: now, URL: ep.URL, ResponseStatus: 200}
	done := []hookline.Completion{{Status: hookline.DeliverySucceeded, Attempt: a}}
	cerr := s.CompleteTasks(ctx, "n1", done)
	if err := <-flushErr; err == nil {
		t.Fatal("the injected flush failure did not happen: the test no longer exercises it")
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM failflag`); err != nil {
		t.Fatal(err)
	}
	if cerr != nil {
		t.Logf("CompleteTasks during the failed flush: %v; retrying", cerr)
		if err := s.CompleteTasks(ctx, "n1", done); err != nil {
			t.Fatalf("CompleteTasks once flushes work again: %v", err)
		}
	}
	ds, err := s.Deliveries(ctx, ev.ID)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries = %+v, %v", ds, err)
	}
	if ds[0].Status != hookline.DeliverySucceeded || ds[0].Attempts != 1 {
		t.Errorf("CompleteTasks returned nil but the delivery is %s after %d attempts; want succeeded after 1", ds[0].Status, ds[0].Attempts)
	}
}

// failDirSync is a crashfs whose directory syncs fail, once armed, from
// the retire of a segment to the spare until disarmed: the rename
// happened, but a power cut may undo it.
type failDirSync struct {
	*crashfs.FS
	mu             sync.Mutex
	armed, failing bool
}

func (f *failDirSync) Rename(a, b string) error {
	err := f.FS.Rename(a, b)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.armed && strings.HasSuffix(b, "spare") {
		f.failing = true
	}
	return err
}

func (f *failDirSync) SyncDir(d string) error {
	f.mu.Lock()
	failing := f.failing
	f.mu.Unlock()
	if failing {
		return errors.New("injected EIO")
	}
	return f.FS.SyncDir(d)
}

func (f *failDirSync) set(armed, failing bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.failing = armed, failing
}

func (f *failDirSync) failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failing
}

// TestFailedRetireKeepsPurgedEventsPurged: when retiring a segment fails
// (its directory sync fails, so a power cut may bring it back), retention
// must not purge the events it holds until a retry succeeds; after the
// retry, the purge goes ahead, and no power cut brings a purged event back.
func TestFailedRetireKeepsPurgedEventsPurged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookline.db")
	fs := &failDirSync{FS: crashfs.New()}
	s, err := sqlite.OpenWith(ctx, path, sqlite.Options{JournalFS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sqlite.PauseFlushes(s)
	now := time.Now().UTC()
	ep := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "https://example.test/", EnabledEvents: []string{"*"},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x", Created: now, Updated: now}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now.Add(-time.Hour), Payload: []byte(`{}`)}
	if _, err := s.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	cutoff := now.Add(-30 * time.Minute)
	// recoverCut recovers what a power cut now leaves and checks that the
	// event is back only if it was not purged.
	recoverCut := func(when string) {
		t.Helper()
		_, err := s.Event(ctx, ev.ID)
		purged := isNotFound(err)
		if !purged && err != nil {
			t.Fatal(err)
		}
		crashed := fs.FS.Crash()
		r, err := sqlite.OpenWith(ctx, filepath.Join(crashCopy(t, dir), "hookline.db"), sqlite.Options{JournalFS: crashed})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := r.Event(ctx, ev.ID); err == nil && purged {
			tasks, _ := r.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "n", Now: time.Now(), Lease: time.Minute, Limit: 10, MaxConcurrency: hookline.MaxMaxConcurrency})
			t.Errorf("%s: the purged event is back after a power cut, with %d claimable tasks", when, len(tasks))
		}
	}

	fs.set(true, false)
	if _, err := s.PurgeBefore(ctx, cutoff, 100); err != nil {
		t.Logf("purge while retiring fails: %v", err)
	}
	if !fs.failed() {
		t.Fatal("no segment was retired to the spare: the test no longer exercises a failed retire")
	}
	recoverCut("after a purge whose retire failed")
	fs.set(false, false)

	p, err := s.PurgeBefore(ctx, cutoff, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Event(ctx, ev.ID); !isNotFound(err) {
		t.Fatalf("a purge once the retire can succeed left the event (purged %+v, %v)", p, err)
	}
	recoverCut("after the retried retire")
}
