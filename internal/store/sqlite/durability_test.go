package sqlite_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/testutil"
)

// crashCopy copies every file of dir as a SIGKILL would leave it.
func crashCopy(t *testing.T, dir string) string {
	t.Helper()
	c := t.TempDir()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		copyFile(t, filepath.Join(dir, e.Name()), filepath.Join(c, e.Name()))
	}
	return c
}

func journalFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if strings.Contains(e.Name(), ".journal.") {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestPurgedEventsStayPurged: an event purged by retention never comes
// back from the journal after a crash, whether its record is in a segment
// of an earlier run (retired to the spare at a clean stop, then reused) or
// of this one (flushed, then purged while its segment is still current).
func TestPurgedEventsStayPurged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookline.db")
	old := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	s, _ := openWithEndpoint(t, path, old)
	publish := func(s *sqlite.Store) string {
		ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: old, Payload: []byte(`{}`)}
		if _, err := s.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: old}); err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	var earlier []string
	for range 5 {
		earlier = append(earlier, publish(s))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var current []string
	for range 5 {
		current = append(current, publish(s))
	}
	if _, err := s.Event(ctx, current[0]); err != nil { // a read flushes them into SQLite
		t.Fatal(err)
	}
	p, err := s.PurgeBefore(ctx, time.Now(), 100)
	if err != nil || p.Events != 10 {
		t.Fatalf("PurgeBefore = %+v, %v; want 10 events purged", p, err)
	}
	crashed := crashCopy(t, dir) // SIGKILL now

	r, err := sqlite.Open(ctx, filepath.Join(crashed, "hookline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, id := range slices.Concat(earlier, current) {
		if _, err := r.Event(ctx, id); !isNotFound(err) {
			t.Errorf("purged event %s after a crash: err %v, want not found", id, err)
		}
	}
	if tasks, err := r.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "n", Now: time.Now(), Lease: time.Minute, Limit: 100, MaxConcurrency: hookline.MaxMaxConcurrency}); err != nil || len(tasks) != 0 {
		t.Errorf("claimable after the crash: %d tasks, %v; want none", len(tasks), err)
	}
}

// TestDamagedRecordLosesOnlyItsEvents: one flipped byte in a journal
// record loses that record's events alone; the store logs the file and
// offset, and keeps the damaged segment aside instead of reusing it.
func TestDamagedRecordLosesOnlyItsEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookline.db")
	now := time.Now().UTC().Truncate(time.Millisecond)
	s, _ := openWithEndpoint(t, path, now)
	defer s.Close()
	sqlite.PauseFlushes(s)
	var ids []string
	var seg string
	var ends []int64
	for range 5 {
		ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{"x":1}`)}
		if _, err := s.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: now}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
		var end int64
		seg, end = sqlite.JournalTail(s)
		ends = append(ends, end)
	}
	crashed := crashCopy(t, dir)
	damaged := filepath.Join(crashed, filepath.Base(seg))
	f, err := os.OpenFile(damaged, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	off := ends[0] + 20 // inside record 2's body
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var logs testutil.SyncBuffer
	r, err := sqlite.OpenWith(ctx, filepath.Join(crashed, "hookline.db"), sqlite.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer r.Close()
	for i, id := range ids {
		_, err := r.Event(ctx, id)
		if i == 1 && !isNotFound(err) {
			t.Errorf("the event of the damaged record: err %v, want not found", err)
		}
		if i != 1 && err != nil {
			t.Errorf("event %d of 5, in an intact record: %v", i+1, err)
		}
	}
	for _, want := range []string{"journal record damaged", "file=" + damaged, "offset=" + strconv.FormatInt(ends[0], 10)} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if files := journalFiles(t, crashed); !slices.Contains(files, filepath.Base(seg)+".damaged") {
		t.Errorf("journal files %v: the damaged segment was not kept aside", files)
	}
}

// TestCompletionDurableOnReturn: once CompleteTasks returns for a delivery
// still only in the journal, its attempt survives a crash and the
// delivery is not sent again.
func TestCompletionDurableOnReturn(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookline.db")
	now := time.Now().UTC().Truncate(time.Millisecond)
	s, ep := openWithEndpoint(t, path, now)
	defer s.Close()
	sqlite.PauseFlushes(s)
	ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{}`)}
	ps, err := s.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: now, LeaseOwner: "n1", LeaseExpires: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	task := ps[0].Tasks[0]
	atm := hookline.Attempt{ID: hookline.NewID("atm"), DeliveryID: task.DeliveryID, EventID: ev.ID, EndpointID: ep.ID,
		Attempt: 1, Created: now, ResponseStatus: 200, URL: ep.URL, DurationMS: 12, ResponseBody: "ok"}
	if err := s.CompleteTasks(ctx, "n1", []hookline.Completion{{Status: hookline.DeliverySucceeded, Attempt: atm}}); err != nil {
		t.Fatal(err)
	}
	crashed := crashCopy(t, dir) // CompleteTasks returned: SIGKILL now

	r, err := sqlite.Open(ctx, filepath.Join(crashed, "hookline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	atts, _, err := r.ListAttempts(ctx, hookline.AttemptFilter{EventID: ev.ID})
	if err != nil || len(atts) != 1 || atts[0].ID != atm.ID || atts[0].ResponseBody != "ok" || atts[0].DurationMS != 12 {
		t.Fatalf("attempts after the crash = %+v, %v; want %s", atts, err, atm.ID)
	}
	if tasks, err := r.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "n2", Now: now.Add(time.Second), Lease: time.Minute, Limit: 10, MaxConcurrency: hookline.MaxMaxConcurrency}); err != nil || len(tasks) != 0 {
		t.Fatalf("claimable after the crash: %d, %v; want none (it succeeded)", len(tasks), err)
	}
	ds, err := r.Deliveries(ctx, ev.ID)
	if err != nil || len(ds) != 1 || ds[0].Status != hookline.DeliverySucceeded || ds[0].Attempts != 1 {
		t.Fatalf("deliveries after the crash = %+v, %v; want one succeeded after 1 attempt", ds, err)
	}
}

// TestPendingMemoryBoundedInBytes: with flushes stopped, large events
// make publishers flush once the bytes waiting in memory reach the bound,
// long before the bound on their count would.
func TestPendingMemoryBoundedInBytes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	s, _ := openWithEndpoint(t, filepath.Join(t.TempDir(), "hookline.db"), now)
	defer s.Close()
	sqlite.PauseFlushes(s)
	payload := []byte(`"` + strings.Repeat("x", 1<<20-2) + `"`) // 1 MiB, the API's largest
	var peak, bound int64
	for range 80 {
		ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: payload}
		if _, err := s.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: now}); err != nil {
			t.Fatal(err)
		}
		var n int64
		n, bound = sqlite.PendingBytes(s)
		peak = max(peak, n)
	}
	if peak < bound/2 || peak > bound+2<<20 {
		t.Fatalf("peak of %d bytes waiting in memory, want up to the bound of %d and about it", peak, bound)
	}
}

// TestPendingBytesSettleAfterClaimsInMemory: deliveries a claim leases in
// memory (their endpoint had no room at publish), and those given back
// there, leave the bytes counted against maxPendingBytes where they were:
// once everything is flushed, nothing is counted. An account that drifted
// with each lease would wear the bound away in a long-running process.
func TestPendingBytesSettleAfterClaimsInMemory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	s, _ := openWithEndpoint(t, filepath.Join(t.TempDir(), "hookline.db"), now)
	defer s.Close()
	sqlite.PauseFlushes(s)
	var evs []*hookline.Event
	for range 20 {
		evs = append(evs, &hookline.Event{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{}`)})
	}
	if _, err := s.PublishEvents(ctx, evs, hookline.PublishOptions{Now: now}); err != nil { // leased by nobody
		t.Fatal(err)
	}
	owner := "node-" + strings.Repeat("x", 200)
	tasks, err := s.ClaimTasks(ctx, hookline.ClaimRequest{Owner: owner, Now: now, Lease: time.Minute, Limit: 20, MaxConcurrency: hookline.MaxMaxConcurrency})
	if err != nil || len(tasks) != 20 {
		t.Fatalf("claimed %d, %v; want 20", len(tasks), err)
	}
	if n, _ := sqlite.PendingBytes(s); n <= 0 {
		t.Fatalf("%d bytes waiting with 20 events in memory, want more than 0", n)
	}
	// Half given back, in memory too.
	var back []string
	for _, task := range tasks[:10] {
		back = append(back, task.DeliveryID)
	}
	if err := s.ReleaseTasks(ctx, owner, back, now); err != nil {
		t.Fatal(err)
	}
	// A write flushes everything first.
	other := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "https://example.test/2", EnabledEvents: []string{"*"},
		Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x", Created: now, Updated: now}
	if err := s.CreateEndpoint(ctx, other); err != nil {
		t.Fatal(err)
	}
	if n, _ := sqlite.PendingBytes(s); n != 0 {
		t.Fatalf("%d bytes counted with nothing waiting in memory, want 0", n)
	}
}

// TestClaimedInMemoryCompletionDurable: a delivery left unleased at
// publish (its endpoint had no room) and then leased by a claim in memory,
// still only in the journal, has its attempt survive a crash once
// CompleteTasks returns; the delivery claimed but not attempted is due
// again after the crash, and the one attempted is not.
func TestClaimedInMemoryCompletionDurable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	now := time.Now().UTC().Truncate(time.Millisecond)
	s, ep := openWithEndpoint(t, filepath.Join(dir, "hookline.db"), now)
	defer s.Close()
	sqlite.PauseFlushes(s)
	evs := []*hookline.Event{
		{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{}`)},
		{ID: hookline.NewID("evt"), Type: "a.b", Created: now, Payload: []byte(`{}`)},
	}
	if _, err := s.PublishEvents(ctx, evs, hookline.PublishOptions{Now: now}); err != nil { // leased by nobody
		t.Fatal(err)
	}
	tasks, err := s.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "n1", Now: now, Lease: time.Minute, Limit: 10, MaxConcurrency: hookline.MaxMaxConcurrency})
	if err != nil || len(tasks) != 2 {
		t.Fatalf("claimed %d, %v; want 2", len(tasks), err)
	}
	done, waiting := tasks[0], tasks[1]
	atm := hookline.Attempt{ID: hookline.NewID("atm"), DeliveryID: done.DeliveryID, EventID: done.Event.ID, EndpointID: ep.ID,
		Attempt: 1, Created: now, ResponseStatus: 200, URL: ep.URL, DurationMS: 7, ResponseBody: "ok"}
	if err := s.CompleteTasks(ctx, "n1", []hookline.Completion{{Status: hookline.DeliverySucceeded, Attempt: atm}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := sqlite.PendingBytes(s); n == 0 {
		t.Fatal("the events went to SQLite: the test no longer covers a completion of a delivery only in the journal")
	}
	crashed := crashCopy(t, dir) // CompleteTasks returned: SIGKILL now

	r, err := sqlite.Open(ctx, filepath.Join(crashed, "hookline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	atts, _, err := r.ListAttempts(ctx, hookline.AttemptFilter{EventID: done.Event.ID})
	if err != nil || len(atts) != 1 || atts[0].ID != atm.ID || atts[0].ResponseBody != "ok" {
		t.Fatalf("attempts after the crash = %+v, %v; want %s", atts, err, atm.ID)
	}
	again, err := r.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "n2", Now: now.Add(time.Second), Lease: time.Minute, Limit: 10, MaxConcurrency: hookline.MaxMaxConcurrency})
	if err != nil || len(again) != 1 || again[0].DeliveryID != waiting.DeliveryID {
		t.Fatalf("claimable after the crash = %d tasks, %v; want only %s, never attempted", len(again), err, waiting.DeliveryID)
	}
}
