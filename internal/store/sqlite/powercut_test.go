package sqlite_test

import (
	"bytes"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
	cuts, violations := powerCuts(t, "", 0, false)
	for _, v := range violations {
		t.Error(v)
	}
	if cuts < 50 {
		t.Errorf("only %d cut points: the scenario no longer exercises the journal", cuts)
	}
}

// TestPowerCutKeepingEntries: the same scenario on a file system that may
// write directory entries before they are synced (a renamed spare, a new
// segment, a retired one surviving a power cut without their directory
// sync), which the journal must survive as well.
func TestPowerCutKeepingEntries(t *testing.T) {
	t.Parallel()
	_, violations := powerCuts(t, "", 0, true)
	for _, v := range violations {
		t.Error(v)
	}
}

// TestPowerCutDuringRecovery: a second power cut while the store recovers
// from a first (replaying, retiring the replayed segments, starting a new
// one, flushing) loses nothing acknowledged and brings nothing purged back
// either. Every eighth cut of the scenario is recovered so, with a cut
// before every operation of its recovery.
func TestPowerCutDuringRecovery(t *testing.T) {
	t.Parallel()
	cuts, violations := powerCuts(t, "", 8, false)
	for _, v := range violations {
		t.Error(v)
	}
	t.Logf("%d power cuts, of the scenario and during recoveries", cuts)
	if cuts < 100 {
		t.Errorf("only %d cut points: the recoveries no longer exercise the journal", cuts)
	}
}

// TestPowerCutCatchesMissingSyncs is the mutation check of
// TestPowerCutAtEveryStep: with every journal sync a no-op, or any one
// sync point alone, the same scenario must lose something acknowledged or
// bring something purged back, or that test proves nothing about it.
func TestPowerCutCatchesMissingSyncs(t *testing.T) {
	t.Parallel()
	for _, point := range append([]string{"every sync"}, syncPointNames...) {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			_, violations := powerCuts(t, point, 0, false)
			if len(violations) == 0 {
				t.Fatalf("with %s a no-op, no power cut lost anything acknowledged: the power-cut test cannot tell that sync is needed", point)
			}
			t.Logf("with %s a no-op, %d violations; the first: %s", point, len(violations), violations[0])
		})
	}
}

// The journal's sync points, told apart by the operations before them
// (syncPoints): what each makes durable.
const (
	syncSegmentData = "the sync of a new segment's header and zero-fill"
	syncSegmentDir  = "the directory sync of a new segment"
	syncAppend      = "the sync of an append"
	syncRetire      = "the directory sync of a retired segment"
)

var syncPointNames = []string{syncSegmentData, syncSegmentDir, syncAppend, syncRetire}

// syncPoints names the sync point of each sync the journal makes on a
// crashfs, from the operations it saw before (fed by BeforeOp).
type syncPoints struct {
	mu        sync.Mutex
	preparing map[string]bool // segments created or reused, their directory not yet synced
	current   string          // the sync point of the last sync seen
	seen      map[string]int
}

func (p *syncPoints) see(op string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := strings.Fields(op)
	switch f[0] {
	case "create":
		p.preparing[f[1]] = true
		return
	case "rename":
		if strings.HasSuffix(f[1], "spare") {
			p.preparing[f[2]] = true
		}
		return
	case "sync":
		p.current = syncAppend // a record that grew the segment
		if p.preparing[f[1]] {
			p.current = syncSegmentData
		}
	case "syncrange":
		p.current = syncAppend
	case "syncdir":
		p.current = syncRetire
		if len(p.preparing) > 0 {
			p.current = syncSegmentDir
			clear(p.preparing)
		}
	default:
		return
	}
	p.seen[p.current]++
}

func (p *syncPoints) last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current
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
// there were and what each recovery found wrong. skip names the sync
// point to make a no-op ("every sync": all of them), or is empty. With
// again > 0, every again-th cut is recovered with a cut before each
// operation of its recovery (recoverWithCuts). With keepEntries, a cut
// keeps every directory entry, synced or not (crashfs.CrashKeepingEntries).
func powerCuts(t *testing.T, skip string, again int, keepEntries bool) (int, []string) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookline.db")
	fs := crashfs.New()
	points := &syncPoints{preparing: map[string]bool{}, seen: map[string]int{}}
	fs.NoSync = skip == "every sync"
	if skip != "" {
		fs.SkipSync = func(string) bool { return points.last() == skip }
	}
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
		points.see(op)
		crashed := fs.Crash()
		if keepEntries {
			crashed = fs.CrashKeepingEntries()
		}
		cuts = append(cuts, powerCut{op: fmt.Sprintf("#%d %s", n, op), fs: crashed, dir: crashCopy(t, dir), ack: ack.clone()})
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
	for _, point := range syncPointNames {
		if points.seen[point] == 0 {
			t.Errorf("the scenario never reached %s", point)
		}
	}

	var violations []string
	n := len(cuts)
	for i, c := range cuts {
		if again > 0 && i%again == 0 {
			m, vs := recoverWithCuts(t, c)
			n += m
			violations = append(violations, vs...)
			continue
		}
		for _, v := range recoverCut(t, c) {
			violations = append(violations, "power cut before "+c.op+": "+v)
		}
	}
	return n, violations
}

// recoverWithCuts recovers c (opens the store it left, flushes what it
// replayed, closes it) with a second power cut before every operation of
// that recovery, and after it, recovers each of those and reports how many
// there were and what they lost or brought back.
func recoverWithCuts(t *testing.T, c powerCut) (int, []string) {
	ctx := t.Context()
	var cuts []powerCut
	cut := func(n int, op string) {
		cuts = append(cuts, powerCut{op: fmt.Sprintf("%s, then during its recovery before #%d %s", c.op, n, op),
			fs: c.fs.Crash(), dir: crashCopy(t, c.dir), ack: c.ack})
	}
	c.fs.BeforeOp = cut
	r, err := sqlite.OpenWith(ctx, filepath.Join(c.dir, "hookline.db"), sqlite.Options{JournalFS: c.fs, JournalSegmentSize: 8 << 10})
	if err != nil {
		return 0, []string{fmt.Sprintf("power cut before %s: reopening: %v", c.op, err)}
	}
	sqlite.PauseFlushes(r)
	if _, _, err := r.ListEvents(ctx, hookline.EventFilter{}); err != nil { // flushes what was replayed
		t.Errorf("power cut before %s: flushing after recovery: %v", c.op, err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("power cut before %s: closing after recovery: %v", c.op, err)
	}
	cut(c.fs.Ops(), "end")
	c.fs.BeforeOp = nil
	var out []string
	for _, again := range cuts {
		for _, v := range recoverCut(t, again) {
			out = append(out, "power cut before "+again.op+": "+v)
		}
	}
	return len(cuts), out
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
