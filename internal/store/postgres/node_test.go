package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/pgtest"
)

var t0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// openDSN opens a store on dsn, closed when t ends.
func openDSN(t testing.TB, dsn string, opts Options) *Store {
	t.Helper()
	s, err := OpenWith(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("OpenWith: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// applied returns the versions in schema_migrations and when each was
// applied.
func applied(t *testing.T, s *Store) map[int]time.Time {
	t.Helper()
	rows, err := s.pool.Query(t.Context(), `SELECT version, applied FROM schema_migrations`)
	if err != nil {
		t.Fatalf("reading schema_migrations: %v", err)
	}
	defer rows.Close()
	out := map[int]time.Time{}
	for rows.Next() {
		var v int
		var at time.Time
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		out[v] = at
	}
	return out
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	want, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, Options{SkipMigrate: true})
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('endpoints') IS NOT NULL`).Scan(&exists); err != nil || exists {
		t.Fatalf("with SkipMigrate, endpoints exists = %v (%v), want an untouched database", exists, err)
	}

	done, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if len(done) != len(want) || done[0] != strings.TrimSuffix(want[0].name, ".sql") {
		t.Fatalf("first Migrate reported %q, want all %d migrations", done, len(want))
	}
	first := applied(t, s)
	if len(first) != len(want) {
		t.Fatalf("after Migrate, %d migrations recorded, want %d", len(first), len(want))
	}
	if _, err := s.Backlog(ctx); err != nil {
		t.Fatalf("store unusable after Migrate: %v", err)
	}

	if done, err := s.Migrate(ctx); err != nil || len(done) != 0 {
		t.Fatalf("second Migrate = %q, %v; want nothing applied", done, err)
	}
	for v, at := range applied(t, s) {
		if !at.Equal(first[v]) {
			t.Errorf("migration %d re-applied by the second Migrate (%v, first %v)", v, at, first[v])
		}
	}
}

func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	want, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	// Separate pools, as two nodes starting at once would have.
	nodes := []*Store{openDSN(t, dsn, Options{SkipMigrate: true}), openDSN(t, dsn, Options{SkipMigrate: true}), openDSN(t, dsn, Options{SkipMigrate: true})}
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Go(func() { _, errs[i] = n.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: Migrate: %v", i, err)
		}
	}
	if got := applied(t, nodes[0]); len(got) != len(want) {
		t.Errorf("%d migrations recorded, want %d", len(got), len(want))
	}
}

// TestNodesClaimConcurrently runs two stores (two pools: two nodes) with two
// claimers each against one database, and checks that every delivery is
// leased exactly once.
func TestNodesClaimConcurrently(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	a := openDSN(t, dsn, Options{})
	b := openDSN(t, dsn, Options{})

	const endpoints, events = 3, 200
	for i := range endpoints {
		err := a.CreateEndpoint(ctx, &hookline.Endpoint{
			ID: fmt.Sprintf("ep_%d", i), URL: "https://example.test/hook", EnabledEvents: []string{"*"},
			Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x",
			Created: t0, Updated: t0,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	batch := make([]*hookline.Event, events)
	for i := range batch {
		batch[i] = &hookline.Event{ID: hookline.NewID("evt"), Type: "invoice.paid", Created: t0, Payload: []byte(`{}`)}
	}
	if _, err := a.PublishEvents(ctx, batch, hookline.PublishOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}

	type claim struct{ owner, id string }
	var mu sync.Mutex
	var claims []claim
	var wg sync.WaitGroup
	for i, node := range []*Store{a, b, a, b} {
		owner := fmt.Sprintf("node%d", i)
		wg.Go(func() {
			for {
				tasks, err := node.ClaimTasks(ctx, hookline.ClaimRequest{Owner: owner, Now: t0.Add(time.Second), Lease: time.Minute, Limit: 7, MaxConcurrency: hookline.MaxMaxConcurrency})
				if err != nil {
					t.Errorf("%s: ClaimTasks: %v", owner, err)
					return
				}
				if len(tasks) == 0 {
					return
				}
				mu.Lock()
				for _, tk := range tasks {
					claims = append(claims, claim{owner, tk.DeliveryID})
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	by := map[string]string{}
	owners := map[string]int{}
	for _, c := range claims {
		if prev, ok := by[c.id]; ok {
			t.Errorf("delivery %s leased to both %s and %s", c.id, prev, c.owner)
		}
		by[c.id] = c.owner
		owners[c.owner]++
	}
	if len(by) != endpoints*events {
		t.Errorf("%d deliveries claimed, want %d", len(by), endpoints*events)
	}
	t.Logf("claims per owner: %v", owners)

	// The database agrees with what each claimer was told.
	rows, err := a.pool.Query(ctx, `SELECT id, lease_owner FROM deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, owner string
		if err := rows.Scan(&id, &owner); err != nil {
			t.Fatal(err)
		}
		if by[id] != owner {
			t.Errorf("delivery %s: lease_owner %q in the database, claimed by %q", id, owner, by[id])
		}
	}
}

// TestOpenKeepsOtherNodesLeases checks that a node starting up does not take
// the deliveries another, running node has leased.
func TestOpenKeepsOtherNodesLeases(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	a := openDSN(t, dsn, Options{})
	err := a.CreateEndpoint(ctx, &hookline.Endpoint{
		ID: "ep_1", URL: "https://example.test/hook", EnabledEvents: []string{"*"},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x",
		Created: t0, Updated: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "x", Created: t0, Payload: []byte(`{}`)}
	if _, err := a.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	if got, err := a.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "a", Now: t0, Lease: time.Minute, Limit: 10, MaxConcurrency: hookline.MaxMaxConcurrency}); err != nil || len(got) != 1 {
		t.Fatalf("node a claimed %d tasks (%v), want 1", len(got), err)
	}
	b := openDSN(t, dsn, Options{})
	if got, err := b.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "b", Now: t0.Add(time.Second), Lease: time.Minute, Limit: 10, MaxConcurrency: hookline.MaxMaxConcurrency}); err != nil || len(got) != 0 {
		t.Fatalf("node b, just opened, claimed %d tasks (%v), want 0: a's lease holds", len(got), err)
	}
}

// TestAttemptTextRoundTrip checks what a text column would refuse: a
// response body and an error with NUL and bytes that are not UTF-8.
func TestAttemptTextRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t, Options{})
	err := s.CreateEndpoint(ctx, &hookline.Endpoint{
		ID: "ep_1", URL: "https://example.test/hook", EnabledEvents: []string{"*"},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x",
		Created: t0, Updated: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "x", Created: t0, Payload: []byte(`{}`)}
	pub, err := s.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: t0, LeaseOwner: "a", LeaseExpires: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	task := pub[0].Tasks[0]
	body := "a\x00b\xffc"
	err = s.CompleteTasks(ctx, "a", []hookline.Completion{{
		Status: hookline.DeliveryFailed,
		Attempt: hookline.Attempt{DeliveryID: task.DeliveryID, EventID: ev.ID, EndpointID: "ep_1", Attempt: 1,
			Created: t0, ResponseStatus: 500, ResponseBody: body, Error: "bad \x00 byte \xfe"},
	}})
	if err != nil {
		t.Fatalf("CompleteTasks: %v", err)
	}
	list, _, err := s.ListAttempts(ctx, hookline.AttemptFilter{EventID: ev.ID})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListAttempts: %d attempts, %v", len(list), err)
	}
	if list[0].ResponseBody != body {
		t.Errorf("response body %q, want %q byte for byte", list[0].ResponseBody, body)
	}
	if want := "bad \uFFFD byte \uFFFD"; list[0].Error != want {
		t.Errorf("error %q, want %q", list[0].Error, want)
	}
}
