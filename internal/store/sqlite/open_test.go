package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// openWithEndpoint opens a store at path holding one endpoint that takes
// every event; the caller closes it.
func openWithEndpoint(t *testing.T, path string, now time.Time) (*sqlite.Store, *hookline.Endpoint) {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	ep := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "https://example.test/", EnabledEvents: []string{"*"},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x", Created: now, Updated: now}
	if err := s.CreateEndpoint(t.Context(), ep); err != nil {
		t.Fatal(err)
	}
	return s, ep
}

// TestReopen checks what Open does to a file an earlier process left: the
// migrations are not applied again, the data is there, and the earlier
// process's leases are released so its deliveries can be claimed at once.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookline.db")
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	s, _ := openWithEndpoint(t, path, now)
	ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{}`)}
	ps, err := s.PublishEvents(ctx, []*hookline.Event{ev},
		hookline.PublishOptions{Now: now, LeaseOwner: "crashed-node", LeaseExpires: now.Add(time.Hour)})
	if err != nil || len(ps[0].Tasks) != 1 {
		t.Fatalf("PublishEvents: %v, %+v", err, ps)
	}
	if err := s.SetSetting(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = sqlite.OpenWith(ctx, path, sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer s.Close()
	if v, err := s.Setting(ctx, "k"); err != nil || v != "v" {
		t.Fatalf("Setting after reopen = %q, %v", v, err)
	}
	// Well before the old lease would lapse, the delivery is claimable.
	tasks, err := s.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "new-node", Now: now.Add(time.Second), Lease: time.Minute, Limit: 10, MaxConcurrency: hookline.MaxMaxConcurrency})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].DeliveryID != ps[0].Tasks[0].DeliveryID || tasks[0].Attempt != 1 {
		t.Fatalf("after reopen claimed %+v, want the crashed node's delivery", tasks)
	}
}

func TestOpenOptions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		sync string
		ok   bool
	}{{"", true}, {"FULL", true}, {"normal", true}, {"OFF", false}, {"bogus", false}} {
		t.Run(c.sync, func(t *testing.T) {
			t.Parallel()
			s, err := sqlite.OpenWith(t.Context(), filepath.Join(t.TempDir(), "h.db"), sqlite.Options{Synchronous: c.sync})
			if (err == nil) != c.ok {
				t.Fatalf("OpenWith(Synchronous=%q) error %v, want ok=%v", c.sync, err, c.ok)
			}
			if s != nil {
				s.Close()
			}
		})
	}
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing-dir", "sub", "h.db")); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
}

// TestUpgradeToWithoutRowid opens a database whose deliveries and attempts
// are rowid tables, as before migration 0500, and finds every row kept, the
// tables keyed by id alone and the indexes back.
func TestUpgradeToWithoutRowid(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookline.db")
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	s, ep := openWithEndpoint(t, path, now)
	var evs []*hookline.Event
	for range 3 {
		evs = append(evs, &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{}`)})
	}
	ps, err := s.PublishEvents(ctx, evs, hookline.PublishOptions{Now: now, LeaseOwner: "me", LeaseExpires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// The first delivery succeeds, the second waits for a retry, the third
	// stays leased.
	var cs []hookline.Completion
	for i, status := range []string{hookline.DeliverySucceeded, hookline.DeliveryPending} {
		tk := ps[i].Tasks[0]
		a := hookline.Attempt{ID: hookline.NewID("atm"), DeliveryID: tk.DeliveryID, EventID: tk.Event.ID, EndpointID: ep.ID,
			Attempt: 1, Created: now, URL: ep.URL, ResponseStatus: 200, DurationMS: 3}
		if status == hookline.DeliveryPending {
			a.ResponseStatus, a.Error, a.NextRetry = 500, "HTTP 500", now.Add(time.Minute)
		}
		cs = append(cs, hookline.Completion{Status: status, Attempt: a})
	}
	if err := s.CompleteTasks(ctx, "me", cs); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Turn the tables back into what migration 0500 found.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"deliveries", "attempts"} {
		var ddl string
		if err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE name = ?`, table).Scan(&ddl); err != nil {
			t.Fatal(err)
		}
		// The name comes first, quoted or not (renaming quotes it).
		old := strings.Replace(strings.Replace(ddl, ", WITHOUT ROWID", "", 1), table, table+"_old", 1)
		for _, q := range []string{old, `INSERT INTO ` + table + `_old SELECT * FROM ` + table, `DROP TABLE ` + table,
			`ALTER TABLE ` + table + `_old RENAME TO ` + table} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	for _, q := range []string{ // the indexes migrations 0001 and 0200 made
		`CREATE UNIQUE INDEX deliveries_event_endpoint ON deliveries (event_id, endpoint_id)`,
		`CREATE INDEX deliveries_ready ON deliveries (ready_at) WHERE status = 'pending'`,
		`CREATE INDEX deliveries_failed ON deliveries (endpoint_id, id) WHERE status = 'failed'`,
		`CREATE INDEX attempts_event ON attempts (event_id, id)`,
		`CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Migrations after 0500 that change these tables had not run either;
	// rebuilding the tables dropped the indexes later migrations made on
	// them too: those run again after 0500.
	for _, q := range []string{
		`ALTER TABLE attempts DROP COLUMN error_kind`,
		`DELETE FROM schema_migrations WHERE version IN ('0500_without_rowid', '0731_fair_claim_indexes', '0750_attempt_error_kind', '0751_pending_since')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var rowid int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%WITHOUT ROWID%' AND name IN ('deliveries', 'attempts')`).Scan(&rowid); err != nil || rowid != 0 {
		t.Fatalf("set-up left %d WITHOUT ROWID tables (%v)", rowid, err)
	}
	db.Close()

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("upgrading: %v", err)
	}
	defer s.Close()
	attempts, _, err := s.ListAttempts(ctx, hookline.AttemptFilter{EndpointID: ep.ID})
	if err != nil || len(attempts) != 2 {
		t.Fatalf("attempts after upgrade: %d, %v", len(attempts), err)
	}
	for i, ev := range evs {
		ds, err := s.Deliveries(ctx, ev.ID)
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries of event %d after upgrade: %+v, %v", i, ds, err)
		}
		want := []string{hookline.DeliverySucceeded, hookline.DeliveryPending, hookline.DeliveryPending}[i]
		if ds[0].ID != ps[i].Tasks[0].DeliveryID || ds[0].Status != want {
			t.Fatalf("delivery of event %d after upgrade: %+v, want %s %s", i, ds[0], ps[i].Tasks[0].DeliveryID, want)
		}
	}
	// The retry and the released lease are claimable through deliveries_ready.
	tasks, err := s.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "new", Now: now.Add(2 * time.Minute), Lease: time.Minute, Limit: 10, MaxConcurrency: hookline.MaxMaxConcurrency})
	if err != nil || len(tasks) != 2 {
		t.Fatalf("claimed %d after upgrade (%v), want 2", len(tasks), err)
	}
	db, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('deliveries', 'attempts') AND sql LIKE '%WITHOUT ROWID%'`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d of deliveries and attempts are WITHOUT ROWID after upgrade (%v), want 2", n, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN
		('deliveries_event_endpoint', 'deliveries_ready', 'deliveries_failed', 'deliveries_pending_since', 'attempts_event', 'attempts_endpoint')`).Scan(&n); err != nil || n != 6 {
		t.Fatalf("%d of the 6 indexes after upgrade (%v)", n, err)
	}
}
