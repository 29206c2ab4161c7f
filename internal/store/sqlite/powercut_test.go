package sqlite_test

import (
	"bytes"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/store/sqlite/journal/crashfs"
)

// TestPowerCutAtEveryStep runs publishes, completions, flushes, a purge, a
// clean stop and a second life with the journal on a file system that
// keeps only what was synced, cuts the power before every write, sync,
// rename, create and remove the journal makes, and recovers each cut:
// every acknowledged publish is there with its deliveries, no purged event
// is back, and no attempt CompleteTasks acknowledged is missing.
func TestPowerCutAtEveryStep(t *testing.T) {
	t.Parallel()
	cuts, violations := powerCuts(t, false)
	for _, v := range violations {
		t.Error(v)
	}
	if cuts < 50 {
		t.Errorf("only %d cut points: the scenario no longer exercises the journal", cuts)
	}
}

// TestPowerCutCatchesMissingSyncs is the mutation check of
// TestPowerCutAtEveryStep: with every journal sync a no-op, the same
// scenario must lose something acknowledged, or that test proves nothing.
func TestPowerCutCatchesMissingSyncs(t *testing.T) {
	t.Parallel()
	_, violations := powerCuts(t, true)
	if len(violations) == 0 {
		t.Fatal("with every journal sync a no-op, no power cut lost anything acknowledged: the power-cut test cannot tell durability from its absence")
	}
	t.Logf("with syncs made no-ops, %d violations; the first: %s", len(violations), violations[0])
}

// acked is what the store has acknowledged: what a power cut must not
// undo.
type acked struct {
	published map[string]int    // event id: deliveries
	purged    map[string]bool   // event ids
	purging   map[string]bool   // event ids a purge in flight may have deleted
	attempts  map[string]string // attempt id: event id
}

func (a acked) clone() acked {
	return acked{maps.Clone(a.published), maps.Clone(a.purged), maps.Clone(a.purging), maps.Clone(a.attempts)}
}

type powerCut struct {
	op  string
	fs  *crashfs.FS // the journal as the cut leaves it
	dir string      // the database as the cut leaves it
	ack acked
}

// powerCuts runs the scenario, recovers every cut and returns how many
// there were and what each recovery found wrong.
func powerCuts(t *testing.T, noSync bool) (int, []string) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookline.db")
	fs := crashfs.New()
	fs.NoSync = noSync
	opts := sqlite.Options{JournalFS: fs, JournalSegmentSize: 8 << 10}
	s, err := sqlite.OpenWith(ctx, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	sqlite.PauseFlushes(s)
	now := time.Now().UTC().Truncate(time.Millisecond)
	old := now.Add(-time.Hour)
	ep := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "https://example.test/", EnabledEvents: []string{"*"},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x", Created: now, Updated: now}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}

	ack := acked{published: map[string]int{}, purged: map[string]bool{}, purging: map[string]bool{}, attempts: map[string]string{}}
	created := map[string]time.Time{}
	var cuts []powerCut
	fs.BeforeOp = func(n int, op string) {
		cuts = append(cuts, powerCut{op: fmt.Sprintf("#%d %s", n, op), fs: fs.Crash(), dir: crashCopy(t, dir), ack: ack.clone()})
	}
	payload := append(append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), 1000)...), `"}`...)
	publish := func(at time.Time, lease bool) *hookline.Published {
		t.Helper()
		ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: at, Payload: payload}
		o := hookline.PublishOptions{Now: now}
		if lease {
			o.LeaseOwner, o.LeaseExpires = "n1", now.Add(time.Hour)
		}
		ps, err := s.PublishEvents(ctx, []*hookline.Event{ev}, o)
		if err != nil {
			t.Fatal(err)
		}
		ack.published[ev.ID], created[ev.ID] = ps[0].Deliveries, at
		return &ps[0]
	}
	complete := func(p *hookline.Published) {
		t.Helper()
		a := hookline.Attempt{ID: hookline.NewID("atm"), DeliveryID: p.Tasks[0].DeliveryID, EventID: p.Event.ID, EndpointID: ep.ID,
			Attempt: 1, Created: now, URL: ep.URL, ResponseStatus: 200}
		if err := s.CompleteTasks(ctx, "n1", []hookline.Completion{{Status: hookline.DeliverySucceeded, Attempt: a}}); err != nil {
			t.Fatal(err)
		}
		ack.attempts[a.ID] = p.Event.ID
	}
	flush := func() {
		t.Helper()
		if _, _, err := s.ListEvents(ctx, hookline.EventFilter{}); err != nil { // a read flushes the journal first
			t.Fatal(err)
		}
	}
	purge := func(cutoff time.Time) {
		t.Helper()
		var due []string
		for id, at := range created {
			if at.Before(cutoff) && !ack.purged[id] {
				due = append(due, id)
				ack.purging[id] = true
			}
		}
		p, err := s.PurgeBefore(ctx, cutoff, 1000)
		if err != nil || p.Events != int64(len(due)) {
			t.Fatalf("PurgeBefore = %+v, %v; want %d events purged", p, err, len(due))
		}
		for _, id := range due {
			ack.purged[id] = true
		}
		clear(ack.purging)
	}

	complete(publish(old, true))
	publish(now, true) // never completed
	publish(old, false)
	flush()
	complete(publish(now, true)) // completed while only in the journal
	for i := range 10 {          // across segments
		p := publish(now, true)
		if i%2 == 0 {
			complete(p)
		}
	}
	purge(now.Add(-30 * time.Minute))
	complete(publish(old, true))
	for range 8 {
		publish(now, false)
	}
	flush()
	// A clean stop and a second life, which purges what the first left.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = sqlite.OpenWith(ctx, path, opts); err != nil {
		t.Fatal(err)
	}
	sqlite.PauseFlushes(s)
	complete(publish(now, true))
	complete(publish(old, true)) // flushed, then purged from a segment still current
	flush()
	purge(now.Add(-30 * time.Minute))
	for range 3 {
		publish(now, true)
	}
	fs.BeforeOp(fs.Ops(), "end")

	var violations []string
	for _, c := range cuts {
		for _, v := range recoverCut(t, c) {
			violations = append(violations, "power cut before "+c.op+": "+v)
		}
	}
	return len(cuts), violations
}

// recoverCut opens the store a power cut left and reports what it lost or
// brought back.
func recoverCut(t *testing.T, c powerCut) []string {
	ctx := t.Context()
	r, err := sqlite.OpenWith(ctx, filepath.Join(c.dir, "hookline.db"), sqlite.Options{JournalFS: c.fs, JournalSegmentSize: 8 << 10})
	if err != nil {
		return []string{fmt.Sprintf("reopening: %v", err)}
	}
	defer r.Close()
	var out []string
	for _, id := range slices.Sorted(maps.Keys(c.ack.published)) {
		if c.ack.purging[id] {
			continue // there or not
		}
		if c.ack.purged[id] {
			if _, err := r.Event(ctx, id); !isNotFound(err) {
				out = append(out, fmt.Sprintf("purged event %s is back (err %v)", id, err))
			}
			continue
		}
		if _, err := r.Event(ctx, id); err != nil {
			out = append(out, fmt.Sprintf("acknowledged event %s lost: %v", id, err))
			continue
		}
		if ds, err := r.Deliveries(ctx, id); err != nil || len(ds) != c.ack.published[id] {
			out = append(out, fmt.Sprintf("event %s has %d deliveries (%v), want %d", id, len(ds), err, c.ack.published[id]))
		}
	}
	for _, atm := range slices.Sorted(maps.Keys(c.ack.attempts)) {
		ev := c.ack.attempts[atm]
		if c.ack.purged[ev] || c.ack.purging[ev] {
			continue
		}
		atts, _, err := r.ListAttempts(ctx, hookline.AttemptFilter{EventID: ev})
		if err != nil || !slices.ContainsFunc(atts, func(a *hookline.Attempt) bool { return a.ID == atm }) {
			out = append(out, fmt.Sprintf("acknowledged attempt %s of %s lost (%v)", atm, ev, err))
		}
	}
	return out
}
