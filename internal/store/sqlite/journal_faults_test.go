package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
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
