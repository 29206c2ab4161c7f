package storetest

import (
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// runPacing checks an endpoint's ordering and rate limit and the hold a
// 429 puts on it (issue 18): a FIFO endpoint's claims take its oldest
// pending delivery only, one at a time, and none while it waits for a
// retry; a rate-limited endpoint's claims take no more than its bucket,
// shared by every owner; a held endpoint's, none until the hold ends.
func runPacing(t *testing.T, open func(t *testing.T) hookline.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"PacingRoundTrip", testPacingRoundTrip},
		{"ClaimFIFO", testClaimFIFO},
		{"ClaimRateLimit", testClaimRateLimit},
		{"HoldEndpoint", testHoldEndpoint},
		{"EndpointHold", testEndpointHold},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newFixture(t, open))
		})
	}
}

func fifo(e *hookline.Endpoint) { e.Ordering = hookline.OrderingFIFO }

func rateLimited(perSecond float64, burst int) func(*hookline.Endpoint) {
	return func(e *hookline.Endpoint) { e.RateLimit = &hookline.RateLimit{PerSecond: perSecond, Burst: burst} }
}

func testPacingRoundTrip(t *testing.T, f *fixture) {
	e := f.endpoint([]string{"*"}, fifo, rateLimited(12.5, 40))
	sameEndpoint(t, f.getEndpoint(e.ID), e)
	e.Ordering, e.RateLimit = "", nil
	if err := f.s.UpdateEndpoint(f.ctx, e); err != nil {
		t.Fatal(err)
	}
	sameEndpoint(t, f.getEndpoint(e.ID), e)
}

// publishSeq publishes n events one by one, with lease leasing what they
// may to "pub" (never the deliveries of paced endpoints).
func (f *fixture) publishSeq(n int, lease bool) []*hookline.Event {
	f.t.Helper()
	evs := make([]*hookline.Event, n)
	for i := range evs {
		evs[i] = event("a.b", "", at(time.Duration(i)*time.Millisecond))
		opts := hookline.PublishOptions{Now: at(time.Duration(i) * time.Millisecond)}
		if lease {
			opts.LeaseOwner, opts.LeaseExpires = "pub", at(time.Hour)
		}
		res := f.publish(opts, evs[i])
		for _, r := range res {
			for _, task := range r.Tasks {
				if task.Endpoint.Paced() {
					f.t.Fatalf("a publish leased delivery %s of paced endpoint %s", task.DeliveryID, task.Endpoint.ID)
				}
			}
		}
	}
	return evs
}

func testClaimFIFO(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"*"}, fifo)
	evs := f.publishSeq(5, true)
	now := at(time.Second)
	claimOne := func(owner string, now time.Time, want *hookline.Event, attempt int) *hookline.Task {
		t.Helper()
		got := f.claim(owner, now, 30*time.Second, 10)
		if want == nil {
			if len(got) != 0 {
				t.Fatalf("%s claimed %d deliveries (event %s first), want none", owner, len(got), got[0].Event.ID)
			}
			return nil
		}
		if len(got) != 1 || got[0].Event.ID != want.ID || got[0].Attempt != attempt || got[0].Endpoint.ID != ep.ID {
			ids := []string{}
			for _, g := range got {
				ids = append(ids, g.Event.ID)
			}
			t.Fatalf("%s claimed events %v, want only %s attempt %d", owner, ids, want.ID, attempt)
		}
		return got[0]
	}
	// One at a time: the head, and nothing more while it is leased.
	head := claimOne("a", now, evs[0], 1)
	claimOne("a", now, nil, 0)
	claimOne("b", now, nil, 0)
	// While the head waits for its retry, the next does not overtake it.
	f.complete("a", retry(head, now, at(10*time.Second)))
	claimOne("b", at(5*time.Second), nil, 0)
	head = claimOne("b", at(10*time.Second), evs[0], 2)
	// Failed for good: the next goes.
	f.complete("b", failed(head, at(10*time.Second)))
	next := claimOne("a", at(10*time.Second), evs[1], 1)
	f.complete("a", succeeded(next, at(10*time.Second)))
	// A lease that lapses (its node stopped) brings the same head back.
	lost := claimOne("a", at(11*time.Second), evs[2], 1)
	claimOne("b", at(40*time.Second), nil, 0)
	again := claimOne("b", at(42*time.Second), evs[2], 1)
	if again.DeliveryID != lost.DeliveryID {
		t.Fatalf("after the lease lapsed claimed %s, want %s", again.DeliveryID, lost.DeliveryID)
	}
	if d := f.delivery(evs[0].ID); d.Status != hookline.DeliveryFailed {
		t.Fatalf("the failed head is %s, want it on record as failed", d.Status)
	}

	// An unordered endpoint beside it goes in parallel.
	par := f.endpoint([]string{"*"})
	more := f.publishSeq(3, false)
	got := f.claim("c", at(50*time.Second), 30*time.Second, 10)
	n := 0
	for _, task := range got {
		if task.Endpoint.ID == par.ID {
			n++
		} else {
			t.Fatalf("claimed %s of the FIFO endpoint while its head %s is leased", task.Event.ID, evs[2].ID)
		}
	}
	if n != len(more) {
		t.Fatalf("claimed %d deliveries of the unordered endpoint, want %d", n, len(more))
	}
}

func testClaimRateLimit(t *testing.T, f *fixture) {
	limited := f.endpoint([]string{"*"}, rateLimited(2, 3))
	f.endpoint([]string{"*"}) // leased at publish, unlike the limited one's
	f.publishSeq(10, true)
	count := func(owner string, now time.Time) (n int) {
		t.Helper()
		for _, task := range f.claim(owner, now, time.Hour, 100) {
			if task.Endpoint.ID == limited.ID {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		owner string
		now   time.Duration
		want  int
	}{
		{"a", time.Second, 3},             // the full bucket: the burst
		{"b", time.Second, 0},             // shared by every owner
		{"a", 1500 * time.Millisecond, 1}, // 2/s refills one in half a second
		{"b", 2500 * time.Millisecond, 2},
		{"a", 10 * time.Second, 3}, // never past the burst
		{"b", 10 * time.Second, 0},
	} {
		if n := count(c.owner, at(c.now)); n != c.want {
			t.Fatalf("%s at +%v claimed %d deliveries of the rate-limited endpoint, want %d", c.owner, c.now, n, c.want)
		}
	}
}

func testHoldEndpoint(t *testing.T, f *fixture) {
	held := f.endpoint([]string{"*"})
	other := f.endpoint([]string{"*"})
	f.publishSeq(2, false)
	if err := f.s.HoldEndpoint(f.ctx, held.ID, at(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := f.s.HoldEndpoint(f.ctx, held.ID, at(2*time.Second)); err != nil { // earlier: ignored
		t.Fatal(err)
	}
	byEndpoint := func(now time.Time) map[string]int {
		out := map[string]int{}
		for _, task := range f.claim("a", now, 2*time.Second, 100) {
			out[task.Endpoint.ID]++
		}
		return out
	}
	if got := byEndpoint(at(time.Second)); got[held.ID] != 0 || got[other.ID] != 2 {
		t.Fatalf("while held claimed %v, want only the other endpoint's 2", got)
	}
	if got := byEndpoint(at(4 * time.Second)); got[held.ID] != 0 {
		t.Fatalf("an earlier hold shortened the first: claimed %v at +4s", got)
	}
	if got := byEndpoint(at(5 * time.Second)); got[held.ID] != 2 {
		t.Fatalf("after the hold claimed %v, want the held endpoint's 2", got)
	}
	// A publish leases nothing of a held endpoint either: its delivery
	// waits for a claim after the hold.
	if err := f.s.HoldEndpoint(f.ctx, held.ID, at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	now := at(6 * time.Second)
	capped := func(e *hookline.Endpoint, others int) bool { return others < hookline.ConcurrencyOf(e, 0) } // as the engine's Admit
	ps := f.publish(hookline.PublishOptions{Now: now, LeaseOwner: "n1", LeaseExpires: now.Add(time.Minute), Admit: capped}, event("a.b", "", now))
	if len(ps[0].Tasks) != 1 || ps[0].Tasks[0].Endpoint.ID != other.ID {
		t.Fatalf("a publish while held leased %d tasks, want only the other endpoint's", len(ps[0].Tasks))
	}
}

// testEndpointHold reads back the hold a 429 put on an endpoint, which the
// API shows as held_until: the latest one set, to the millisecond; zero
// for an endpoint never held and for an unknown one.
func testEndpointHold(t *testing.T, f *fixture) {
	held := f.endpoint([]string{"*"})
	other := f.endpoint([]string{"*"}, rateLimited(5, 5))
	f.publishSeq(1, false)
	f.claim("a", at(0), time.Second, 100) // takes from other's bucket: a row without a hold
	hold := func(id string) time.Time {
		t.Helper()
		until, err := f.s.EndpointHold(f.ctx, id)
		if err != nil {
			t.Fatalf("EndpointHold(%s): %v", id, err)
		}
		return until
	}
	for _, id := range []string{held.ID, other.ID, "ep_unknown"} {
		if got := hold(id); !got.IsZero() {
			t.Fatalf("hold of %s before any = %v, want zero", id, got)
		}
	}
	want := at(5*time.Second + 250*time.Millisecond)
	if err := f.s.HoldEndpoint(f.ctx, held.ID, want); err != nil {
		t.Fatal(err)
	}
	if err := f.s.HoldEndpoint(f.ctx, held.ID, at(2*time.Second)); err != nil { // earlier: ignored
		t.Fatal(err)
	}
	if got := hold(held.ID); !got.Equal(want) {
		t.Fatalf("hold = %v, want %v (the later of the two)", got, want)
	}
	if got := hold(other.ID); !got.IsZero() {
		t.Fatalf("hold of the endpoint not held = %v, want zero", got)
	}
	if err := f.s.DeleteEndpoint(f.ctx, held.ID); err != nil {
		t.Fatal(err)
	}
	if got := hold(held.ID); !got.IsZero() {
		t.Fatalf("hold of a deleted endpoint = %v, want zero", got)
	}
}
