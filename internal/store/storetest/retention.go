package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// runScaleOut runs the subtests of retention and of the cluster primitives,
// which every store implements.
func runScaleOut(t *testing.T, open func(t *testing.T) hookline.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"PurgeBefore", testPurgeBefore},
		{"PurgeIdempotencyKeys", testPurgeIdempotencyKeys},
		{"PurgeEmpty", testPurgeEmpty},
		{"NotifyListen", testNotifyListen},
		{"ClaimRunFirst", testClaimRunFirst},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newFixture(t, open))
		})
	}
}

func retention(t *testing.T, f *fixture) hookline.Retention {
	t.Helper()
	r, ok := f.s.(hookline.Retention)
	if !ok {
		t.Fatalf("%T does not implement hookline.Retention", f.s)
	}
	return r
}

func cluster(t *testing.T, f *fixture) hookline.Cluster {
	t.Helper()
	c, ok := f.s.(hookline.Cluster)
	if !ok {
		t.Fatalf("%T does not implement hookline.Cluster", f.s)
	}
	return c
}

// Old events go with their deliveries, whatever their state, and their
// attempts, a batch at a time; newer ones stay whole and keep working.
func testPurgeBefore(t *testing.T, f *fixture) {
	r := retention(t, f)
	ep1 := f.endpoint([]string{"*"})
	f.endpoint([]string{"order.*"})
	var old, recent []*hookline.Event
	for i := range 5 {
		old = append(old, f.publishAt("order.created", at(-72*time.Hour+time.Duration(i)*time.Minute)))
	}
	for i := range 3 {
		recent = append(recent, f.publishAt("order.created", at(-time.Hour+time.Duration(i)*time.Minute)))
	}
	// Attempts on some old and some recent deliveries: a success, a retry
	// still pending, a failure.
	tasks := f.claim("node-a", at(0), time.Minute, 100)
	if len(tasks) != 16 {
		t.Fatalf("claimed %d tasks, want 16", len(tasks))
	}
	var cs []hookline.Completion
	for i, tk := range tasks {
		switch i % 3 {
		case 0:
			cs = append(cs, succeeded(tk, at(0)))
		case 1:
			cs = append(cs, retry(tk, at(0), at(time.Hour)))
		case 2:
			cs = append(cs, failed(tk, at(0)))
		}
	}
	f.complete("node-a", cs...)
	if n := len(f.attempts(hookline.AttemptFilter{})); n != 16 {
		t.Fatalf("%d attempts before purging, want 16", n)
	}

	cutoff := at(-24 * time.Hour)
	var total hookline.Purged
	for round := 1; ; round++ {
		p, err := r.PurgeBefore(f.ctx, cutoff, 2)
		if err != nil {
			t.Fatalf("PurgeBefore: %v", err)
		}
		if p.Events > 2 {
			t.Fatalf("round %d purged %d events with a limit of 2", round, p.Events)
		}
		total.Events += p.Events
		total.Rows += p.Rows
		if !p.More {
			break
		}
		if round > 10 {
			t.Fatal("PurgeBefore still reports more after 10 rounds")
		}
	}
	// 5 events, 10 deliveries, 10 attempts.
	if total.Events != 5 || total.Rows < 25 {
		t.Errorf("purged %d events and %d rows in all, want 5 and at least 25", total.Events, total.Rows)
	}
	for _, ev := range old {
		if _, err := f.s.Event(f.ctx, ev.ID); hookline.ErrorCode(err) != hookline.ENOTFOUND {
			t.Errorf("old event %s after purge: err %v, want ENOTFOUND", ev.ID, err)
		}
		if ds := f.deliveries(ev.ID); len(ds) != 0 {
			t.Errorf("old event %s keeps %d deliveries", ev.ID, len(ds))
		}
		if as := f.attempts(hookline.AttemptFilter{EventID: ev.ID}); len(as) != 0 {
			t.Errorf("old event %s keeps %d attempts", ev.ID, len(as))
		}
	}
	for _, ev := range recent {
		sameEvent(t, mustEvent(t, f, ev.ID), ev)
		if ds := f.deliveries(ev.ID); len(ds) != 2 {
			t.Errorf("recent event %s has %d deliveries, want 2", ev.ID, len(ds))
		}
		if as := f.attempts(hookline.AttemptFilter{EventID: ev.ID}); len(as) != 2 {
			t.Errorf("recent event %s has %d attempts, want 2", ev.ID, len(as))
		}
	}
	// What is left still works: a recent event's retry is claimed when due.
	var pendingRecent int
	for _, ev := range recent {
		for _, d := range f.deliveries(ev.ID) {
			if d.Status == hookline.DeliveryPending {
				pendingRecent++
			}
		}
	}
	if got := len(f.claim("node-b", at(2*time.Hour), time.Minute, 100)); got != pendingRecent {
		t.Errorf("claimed %d retries after purging, want the %d pending of recent events", got, pendingRecent)
	}
	if ep := f.getEndpoint(ep1.ID); ep.ID != ep1.ID {
		t.Errorf("endpoint %s changed by purging", ep1.ID)
	}
	p, err := r.PurgeBefore(f.ctx, cutoff, 2)
	if err != nil || p.Rows != 0 || p.More {
		t.Errorf("purging again: %+v, %v; want nothing left", p, err)
	}
}

func mustEvent(t *testing.T, f *fixture, id string) *hookline.Event {
	t.Helper()
	ev, err := f.s.Event(f.ctx, id)
	if err != nil {
		t.Fatalf("Event(%s): %v", id, err)
	}
	return ev
}

// An idempotency key older than the retention is forgotten even when the
// publisher's window is longer.
func testPurgeIdempotencyKeys(t *testing.T, f *fixture) {
	r := retention(t, f)
	f.endpoint([]string{"*"})
	window := 30 * 24 * time.Hour
	publish := func(key string, now time.Time) hookline.Published {
		ev := event("key.test", "", now)
		ev.IdempotencyKey = key
		return f.publish(hookline.PublishOptions{Now: now, IdempotencyWindow: window}, ev)[0]
	}
	publish("old-key", at(-72*time.Hour))
	publish("new-key", at(-time.Hour))
	if !publish("old-key", at(0)).Duplicate {
		t.Fatal("before purging, a key within the window is not a duplicate")
	}
	// The duplicate check above refreshed nothing: the key's row is as old
	// as its event.
	for p, err := r.PurgeBefore(f.ctx, at(-24*time.Hour), 100); p.More; p, err = r.PurgeBefore(f.ctx, at(-24*time.Hour), 100) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if publish("old-key", at(0)).Duplicate {
		t.Error("after purging, a key older than the retention is still a duplicate")
	}
	if !publish("new-key", at(0)).Duplicate {
		t.Error("after purging, a key newer than the retention is forgotten")
	}
}

func testPurgeEmpty(t *testing.T, f *fixture) {
	r := retention(t, f)
	p, err := r.PurgeBefore(f.ctx, at(0), 100)
	if err != nil || p != (hookline.Purged{}) {
		t.Fatalf("purging an empty store: %+v, %v", p, err)
	}
	if p, err := r.PurgeBefore(f.ctx, at(0), 0); err != nil || p.Rows != 0 {
		t.Fatalf("purging with limit 0: %+v, %v", p, err)
	}
}

// A notification reaches a listener of its channel on the same store, and
// not a listener of another channel.
func testNotifyListen(t *testing.T, f *fixture) {
	c := cluster(t, f)
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	got := make(chan string, 10)
	other := make(chan string, 10)
	ready := make(chan struct{}, 2)
	errs := make(chan error, 2)
	go func() {
		errs <- c.Listen(ctx, "hookline_test_a", func() { ready <- struct{}{} }, func(p string) { got <- p })
	}()
	go func() {
		errs <- c.Listen(ctx, "hookline_test_b", func() { ready <- struct{}{} }, func(p string) { other <- p })
	}()
	for range 2 {
		select {
		case <-ready:
		case err := <-errs:
			t.Fatalf("Listen: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("Listen did not become ready")
		}
	}
	if err := c.Notify(f.ctx, "hookline_test_a", "wake node_1"); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	select {
	case p := <-got:
		if p != "wake node_1" {
			t.Errorf("payload %q, want %q", p, "wake node_1")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the notification did not arrive")
	}
	select {
	case p := <-other:
		t.Errorf("a listener of another channel got %q", p)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	for range 2 {
		if err := <-errs; err != context.Canceled {
			t.Errorf("Listen after its context ended returned %v, want context.Canceled", err)
		}
	}
}

// The first claim of a job's run succeeds on every store; whether a second
// node's succeeds depends on the store (SQLite has one node), so that is
// tested in the PostgreSQL store's own tests.
func testClaimRunFirst(t *testing.T, f *fixture) {
	c := cluster(t, f)
	ok, err := c.ClaimRun(f.ctx, "test-job", "node-a", at(0), time.Minute)
	if err != nil || !ok {
		t.Fatalf("first ClaimRun: %v, %v; want true", ok, err)
	}
	ok, err = c.ClaimRun(f.ctx, "test-job", "node-a", at(2*time.Minute), time.Minute)
	if err != nil || !ok {
		t.Fatalf("ClaimRun a period later: %v, %v; want true", ok, err)
	}
}
