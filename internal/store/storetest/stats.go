package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// runStats runs the StatsStore subtests; Run calls it.
func runStats(t *testing.T, open func(t *testing.T) hookline.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"AttemptStats", testAttemptStats},
		{"BacklogStats", testBacklogStats},
		{"PruneStats", testPruneStats},
		{"FailedDeliveries", testFailedDeliveries},
	}
	for _, tc := range tests {
		t.Run("Stats/"+tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newFixture(t, open))
		})
	}
}

// timed is a completion whose attempt took ms milliseconds.
func timed(c hookline.Completion, ms int64) hookline.Completion {
	c.Attempt.DurationMS = ms
	return c
}

func testAttemptStats(t *testing.T, f *fixture) {
	a := f.endpoint([]string{"a.*"})
	b := f.endpoint([]string{"b.*"})
	for range 3 {
		f.publishAt("a.x", base)
	}
	f.publishAt("b.x", base)
	tasks := f.claim("w", base, time.Hour, 10)
	if len(tasks) != 4 {
		t.Fatalf("claimed %d tasks, want 4", len(tasks))
	}
	var ta []*hookline.Task
	var tb *hookline.Task
	for _, task := range tasks {
		if task.Endpoint.ID == a.ID {
			ta = append(ta, task)
		} else {
			tb = task
		}
	}
	// Minute 0: two attempts at a (one success of 5 ms, one 500 of 300 ms),
	// one at b (success, 40 ms). Minute 2: one more at a (success, 20 ms),
	// in a second transaction, adding to the same endpoint's rows.
	f.complete("w",
		timed(succeeded(ta[0], at(10*time.Second)), 5),
		timed(retry(ta[1], at(20*time.Second), at(time.Hour)), 300),
		timed(succeeded(tb, at(30*time.Second)), 40),
	)
	f.complete("w", timed(succeeded(ta[2], at(2*time.Minute+time.Second)), 20))

	stats := func(endpoint string, step time.Duration) []hookline.StatsBucket {
		t.Helper()
		got, err := f.s.AttemptStats(f.ctx, hookline.StatsFilter{EndpointID: endpoint, From: base, To: at(time.Hour), Step: step})
		if err != nil {
			t.Fatalf("AttemptStats: %v", err)
		}
		return got
	}
	type row struct {
		start                         time.Time
		attempts, succ, fail, latency int64
	}
	rows := func(bs []hookline.StatsBucket) []row {
		var out []row
		for _, b := range bs {
			out = append(out, row{b.Start.UTC(), b.Attempts, b.Successes, b.Failures, b.LatencyMS})
		}
		return out
	}
	cases := []struct {
		name     string
		endpoint string
		step     time.Duration
		want     []row
	}{
		{"total per minute", "", time.Minute, []row{{base, 3, 2, 1, 345}, {at(2 * time.Minute), 1, 1, 0, 20}}},
		{"total per hour", "", time.Hour, []row{{base, 4, 3, 1, 365}}},
		{"a per 5 minutes", a.ID, 5 * time.Minute, []row{{base, 3, 2, 1, 325}}},
		{"b per minute", b.ID, time.Minute, []row{{base, 1, 1, 0, 40}}},
		{"unknown endpoint", "ep_none", time.Minute, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := rows(stats(c.endpoint, c.step)); !slices.Equal(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}

	// The histogram puts each attempt in its bucket: 5 → ≤10, 20 → ≤25,
	// 40 → ≤50, 300 → ≤500.
	total := stats("", time.Hour)[0]
	wantHist := make([]int64, len(hookline.LatencyBounds)+1)
	for _, ms := range []int64{5, 20, 40, 300} {
		wantHist[hookline.LatencyBucket(ms)]++
	}
	if !slices.Equal(total.Latency, wantHist) {
		t.Fatalf("histogram %v, want %v", total.Latency, wantHist)
	}

	// A range that excludes minute 0 sees only minute 2.
	late, err := f.s.AttemptStats(f.ctx, hookline.StatsFilter{From: at(time.Minute), To: at(time.Hour), Step: time.Minute})
	if err != nil || len(late) != 1 || late[0].Attempts != 1 || !late[0].Start.Equal(at(2*time.Minute)) {
		t.Fatalf("AttemptStats from minute 1 = %+v, %v", late, err)
	}

	for _, step := range []time.Duration{0, 30 * time.Second, 90 * time.Second} {
		_, err := f.s.AttemptStats(f.ctx, hookline.StatsFilter{From: base, To: at(time.Hour), Step: step})
		wantCode(t, err, hookline.EINVALID)
	}

	per, err := f.s.EndpointStats(f.ctx, base, []string{a.ID, b.ID, "ep_none"})
	if err != nil {
		t.Fatalf("EndpointStats: %v", err)
	}
	if len(per) != 2 || per[a.ID].Attempts != 3 || per[a.ID].Successes != 2 || per[b.ID].Attempts != 1 || per[b.ID].LatencyMS != 40 {
		t.Fatalf("EndpointStats = %+v", per)
	}
	if _, ok := per["ep_none"]; ok {
		t.Fatal("EndpointStats has an endpoint without attempts")
	}
	later, err := f.s.EndpointStats(f.ctx, at(time.Minute), []string{a.ID, b.ID})
	if err != nil || len(later) != 1 || later[a.ID].Attempts != 1 {
		t.Fatalf("EndpointStats since minute 1 = %+v, %v", later, err)
	}
}

func testBacklogStats(t *testing.T, f *fixture) {
	samples := []struct {
		at      time.Time
		pending int64
		oldest  time.Time
	}{
		{at(0), 5, at(-10 * time.Second)},
		{at(30 * time.Second), 7, at(-20 * time.Second)}, // same minute: replaces the first
		{at(time.Minute), 2, at(55 * time.Second)},
		{at(3 * time.Minute), 0, time.Time{}},
	}
	for _, s := range samples {
		if err := f.s.RecordBacklog(f.ctx, s.at, hookline.Backlog{Pending: s.pending, Oldest: s.oldest}); err != nil {
			t.Fatalf("RecordBacklog: %v", err)
		}
	}
	got, err := f.s.BacklogStats(f.ctx, hookline.StatsFilter{From: base, To: at(time.Hour), Step: time.Minute})
	if err != nil {
		t.Fatalf("BacklogStats: %v", err)
	}
	want := []hookline.BacklogBucket{
		{Start: base, Pending: 7, OldestAgeMS: 50_000},
		{Start: at(time.Minute), Pending: 2, OldestAgeMS: 5_000},
		{Start: at(3 * time.Minute), Pending: 0, OldestAgeMS: 0},
	}
	if len(got) != len(want) {
		t.Fatalf("BacklogStats = %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || got[i].Pending != want[i].Pending || got[i].OldestAgeMS != want[i].OldestAgeMS {
			t.Fatalf("bucket %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Wider buckets keep the largest sample.
	wide, err := f.s.BacklogStats(f.ctx, hookline.StatsFilter{From: base, To: at(time.Hour), Step: 5 * time.Minute})
	if err != nil || len(wide) != 1 || wide[0].Pending != 7 || wide[0].OldestAgeMS != 50_000 {
		t.Fatalf("BacklogStats per 5 minutes = %+v, %v", wide, err)
	}
}

func testPruneStats(t *testing.T, f *fixture) {
	f.endpoint([]string{"*"})
	f.publishAt("a.b", base)
	f.publishAt("a.b", base)
	tasks := f.claim("w", base, time.Hour, 10)
	f.complete("w", succeeded(tasks[0], at(0)), succeeded(tasks[1], at(10*time.Minute)))
	for _, m := range []time.Duration{0, 10 * time.Minute} {
		if err := f.s.RecordBacklog(f.ctx, at(m), hookline.Backlog{Pending: 1, Oldest: at(m)}); err != nil {
			t.Fatalf("RecordBacklog: %v", err)
		}
	}
	if err := f.s.PruneStats(f.ctx, at(5*time.Minute)); err != nil {
		t.Fatalf("PruneStats: %v", err)
	}
	filter := hookline.StatsFilter{From: at(-time.Hour), To: at(time.Hour), Step: time.Minute}
	as, err := f.s.AttemptStats(f.ctx, filter)
	if err != nil || len(as) != 1 || !as[0].Start.Equal(at(10*time.Minute)) {
		t.Fatalf("AttemptStats after prune = %+v, %v", as, err)
	}
	bs, err := f.s.BacklogStats(f.ctx, filter)
	if err != nil || len(bs) != 1 || !bs[0].Start.Equal(at(10*time.Minute)) {
		t.Fatalf("BacklogStats after prune = %+v, %v", bs, err)
	}
}

func testFailedDeliveries(t *testing.T, f *fixture) {
	a := f.endpoint([]string{"*"})
	other := f.endpoint([]string{"other.*"})
	var failedIDs []string
	for i := range 5 {
		f.publishAt("a.b", at(time.Duration(i)*time.Minute))
	}
	f.publishAt("other.x", base)
	tasks := f.claim("w", at(time.Hour), time.Hour, 20)
	var cs []hookline.Completion
	for _, task := range tasks {
		// a: the deliveries of minutes 0, 1, 3 and 4 fail, minute 2's
		// succeeds; other's fails too but belongs to another endpoint.
		if task.Endpoint.ID == a.ID && task.Event.Created.Equal(at(2*time.Minute)) {
			cs = append(cs, succeeded(task, at(time.Hour)))
			continue
		}
		cs = append(cs, failed(task, at(time.Hour)))
	}
	f.complete("w", cs...)
	for _, task := range tasks {
		if task.Endpoint.ID == a.ID && !task.Event.Created.Equal(at(2*time.Minute)) {
			failedIDs = append(failedIDs, task.DeliveryID)
		}
	}
	slices.Sort(failedIDs)

	// Deliveries are created at publish (base here), so the range is
	// checked against that.
	list := func(from, to time.Time, limit int) []string {
		t.Helper()
		var ids []string
		after := ""
		for pages := 0; pages < 100; pages++ {
			ds, err := f.s.FailedDeliveries(f.ctx, a.ID, from, to, after, limit)
			if err != nil {
				t.Fatalf("FailedDeliveries: %v", err)
			}
			for _, d := range ds {
				if d.Status != hookline.DeliveryFailed || d.EndpointID != a.ID {
					t.Fatalf("FailedDeliveries returned %+v", d)
				}
				ids = append(ids, d.ID)
			}
			if len(ds) < limit {
				return ids
			}
			after = ds[len(ds)-1].ID
		}
		t.Fatal("FailedDeliveries pagination does not end")
		return nil
	}
	for _, limit := range []int{1, 2, 3, 100} {
		if got := list(at(-time.Hour), at(time.Hour), limit); !slices.Equal(got, failedIDs) {
			t.Fatalf("limit %d: got %v, want %v", limit, got, failedIDs)
		}
	}
	if got := list(at(time.Hour), at(2*time.Hour), 10); len(got) != 0 {
		t.Fatalf("a range after every delivery returned %v", got)
	}
	// Resending one takes it out of the failed set.
	var first *hookline.Task
	for _, task := range tasks {
		if task.DeliveryID == failedIDs[0] {
			first = task
		}
	}
	if _, err := f.s.Resend(f.ctx, first.Event.ID, a.ID, at(2*time.Hour)); err != nil {
		t.Fatalf("Resend: %v", err)
	}
	if got := list(at(-time.Hour), at(time.Hour), 100); !slices.Equal(got, failedIDs[1:]) {
		t.Fatalf("after a resend got %v, want %v", got, failedIDs[1:])
	}
	// The other endpoint's failure is its own.
	ds, err := f.s.FailedDeliveries(f.ctx, other.ID, at(-time.Hour), at(time.Hour), "", 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("other endpoint's failed deliveries = %v, %v", ds, err)
	}
}
