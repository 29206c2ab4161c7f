package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Crashable opens a fresh store for RunDurability and returns with it
// crash, which returns a store opened on what a crash of the first one's
// process at that moment would leave (a copy of its files as SIGKILL
// leaves them, or a new connection to its database), while the first one
// carries on.
type Crashable func(t *testing.T) (s hookline.Store, crash func(t *testing.T) hookline.Store)

// RunDurability checks what the Store contract says survives a crash once
// a call returns: a publish with its deliveries, an attempt with its
// delivery's new state (which is not sent again), and a purge.
func RunDurability(t *testing.T, open Crashable) {
	t.Run("DurableOnReturn", func(t *testing.T) {
		s, crash := open(t)
		f := &fixture{t: t, ctx: t.Context(), s: s}
		ep := f.endpoint([]string{"*"})
		publish := func(created time.Time, opts hookline.PublishOptions) *hookline.Published {
			t.Helper()
			ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "order.paid", Created: created, Payload: []byte(`{"n":1}`)}
			opts.Now = base
			ps, err := s.PublishEvents(f.ctx, []*hookline.Event{ev}, opts)
			if err != nil {
				t.Fatalf("PublishEvents: %v", err)
			}
			return &ps[0]
		}
		old := publish(at(-48*time.Hour), hookline.PublishOptions{})
		done := publish(base, hookline.PublishOptions{LeaseOwner: "n1", LeaseExpires: at(time.Minute)})
		waiting := publish(base, hookline.PublishOptions{})
		atm := hookline.Attempt{ID: hookline.NewID("atm"), DeliveryID: done.Tasks[0].DeliveryID, EventID: done.Event.ID,
			EndpointID: ep.ID, Attempt: 1, Created: base, URL: ep.URL, ResponseStatus: 200, DurationMS: 7, ResponseBody: "ok"}
		if err := s.CompleteTasks(f.ctx, "n1", []hookline.Completion{{Status: hookline.DeliverySucceeded, Attempt: atm}}); err != nil {
			t.Fatalf("CompleteTasks: %v", err)
		}
		ret, ok := s.(hookline.Retention)
		if !ok {
			t.Fatal("the store does not implement hookline.Retention")
		}
		if p, err := ret.PurgeBefore(f.ctx, at(-24*time.Hour), 100); err != nil || p.Events != 1 {
			t.Fatalf("PurgeBefore = %+v, %v; want the old event purged", p, err)
		}

		r := crash(t)
		var he *hookline.Error
		if _, err := r.Event(f.ctx, old.Event.ID); !errors.As(err, &he) || he.Code != hookline.ENOTFOUND {
			t.Errorf("purged event after the crash: err %v, want not found", err)
		}
		for _, p := range []*hookline.Published{done, waiting} {
			if _, err := r.Event(f.ctx, p.Event.ID); err != nil {
				t.Errorf("published event after the crash: %v", err)
			}
		}
		atts, _, err := r.ListAttempts(f.ctx, hookline.AttemptFilter{EventID: done.Event.ID})
		if err != nil || len(atts) != 1 || atts[0].ID != atm.ID || atts[0].ResponseBody != "ok" {
			t.Errorf("attempts after the crash = %+v, %v; want %s", atts, err, atm.ID)
		}
		ds, err := r.Deliveries(f.ctx, done.Event.ID)
		if err != nil || len(ds) != 1 || ds[0].Status != hookline.DeliverySucceeded || ds[0].Attempts != 1 {
			t.Errorf("completed delivery after the crash = %+v, %v; want succeeded after 1 attempt", ds, err)
		}
		// The crashed node's lease is gone or expires; either way only the
		// delivery never attempted is due again.
		tasks, err := r.ClaimTasks(f.ctx, hookline.ClaimRequest{Owner: "n2", Now: at(2 * time.Minute), Lease: time.Minute, Limit: 10, MaxConcurrency: hookline.MaxMaxConcurrency})
		if err != nil || len(tasks) != 1 || tasks[0].Event.ID != waiting.Event.ID {
			t.Errorf("claimable after the crash = %d tasks, %v; want the one never attempted", len(tasks), err)
		}
	})
	t.Run("CircuitWithItsEvent", func(t *testing.T) {
		testCircuitDurableWithEvent(t, open)
	})
	t.Run("PacingOnReturn", func(t *testing.T) {
		testPacingDurable(t, open)
	})
}

// testPacingDurable: a rate-limited endpoint's bucket, partly spent by a
// claim, and a hold (a 429's Retry-After) survive a crash once the claim
// and HoldEndpoint have returned: the new store neither refills the
// bucket nor forgets the hold (issue 18).
func testPacingDurable(t *testing.T, open Crashable) {
	s, crash := open(t)
	f := &fixture{t: t, ctx: t.Context(), s: s}
	limited := f.endpoint([]string{"*"}, rateLimited(1, 4))
	held := f.endpoint([]string{"*"})
	const events = 6
	for range events {
		ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "order.paid", Created: base, Payload: []byte(`{"n":1}`)}
		if _, err := s.PublishEvents(f.ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: base}); err != nil {
			t.Fatalf("PublishEvents: %v", err)
		}
	}
	if err := s.HoldEndpoint(f.ctx, held.ID, at(time.Hour)); err != nil {
		t.Fatalf("HoldEndpoint: %v", err)
	}
	claim := func(s hookline.Store, owner string, now time.Time, limit int) map[string]int {
		t.Helper()
		tasks, err := s.ClaimTasks(f.ctx, hookline.ClaimRequest{Owner: owner, Now: now, Lease: time.Hour, Limit: limit, MaxConcurrency: 100})
		if err != nil {
			t.Fatalf("ClaimTasks: %v", err)
		}
		out := map[string]int{}
		for _, task := range tasks {
			out[task.Endpoint.ID]++
		}
		return out
	}
	// Two of the burst of four; the held endpoint gives nothing.
	if got := claim(s, "n1", at(time.Second), 2); got[limited.ID] != 2 || got[held.ID] != 0 {
		t.Fatalf("before the crash claimed %v, want 2 of the limited endpoint's", got)
	}

	r := crash(t)
	// At the same moment: the two tokens left, and still nothing held.
	if got := claim(r, "n2", at(time.Second), 100); got[limited.ID] != 2 || got[held.ID] != 0 {
		t.Fatalf("after the crash claimed %v; want the bucket's 2 left of the limited endpoint's (not a full burst of 4) and none of the held one's", got)
	}
	// What the endpoint shows as held_until is the hold kept.
	if until, err := r.EndpointHold(f.ctx, held.ID); err != nil || !until.Equal(at(time.Hour)) {
		t.Fatalf("after the crash EndpointHold = %v, %v; want %v", until, err, at(time.Hour))
	}
	// The hold ends when it said.
	if got := claim(r, "n2", at(time.Hour), 100); got[held.ID] != events {
		t.Fatalf("after the hold claimed %v, want the held endpoint's %d", got, events)
	}
}

// testCircuitDurableWithEvent: once CompleteTasks returns, a circuit it
// opened and the circuit_opened event recorded with it are both there
// after a crash (no node is left to publish an event that lived only in
// its memory).
func testCircuitDurableWithEvent(t *testing.T, open Crashable) {
	s, crash := open(t)
	f := &fixture{t: t, ctx: t.Context(), s: s}
	ep := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) { e.BreakerFailures = 1 })
	ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "order.paid", Created: base, Payload: []byte(`{"n":1}`)}
	ps, err := s.PublishEvents(f.ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: base, LeaseOwner: "n1", LeaseExpires: at(time.Minute)})
	if err != nil {
		t.Fatalf("PublishEvents: %v", err)
	}
	c := breaking(retry(ps[0].Tasks[0], at(time.Second), at(time.Hour)))
	f.complete("n1", c)
	if c.Breaker.Transition != hookline.TransitionOpened {
		t.Fatalf("the failure made transition %q, want opened", c.Breaker.Transition)
	}

	r := crash(t)
	got, err := r.Endpoint(f.ctx, ep.ID)
	if err != nil || !got.Circuit.Open() {
		t.Fatalf("circuit after the crash = %+v, %v; want open", got, err)
	}
	evs, err := r.OperationalEvents(f.ctx, 100)
	if err != nil {
		t.Fatalf("OperationalEvents: %v", err)
	}
	var opened []*hookline.OperationalEvent
	for _, o := range evs {
		if o.Type == hookline.OpCircuitOpened {
			opened = append(opened, o)
		}
	}
	if len(opened) != 1 || opened[0].EndpointID != ep.ID || opened[0].EventID != ev.ID {
		t.Fatalf("circuit_opened events after the crash: %+v; want one for %s", opened, ep.ID)
	}
	sameTime(t, "next probe after the crash", opened[0].NextProbeAt, got.Circuit.NextProbeAt)
}
