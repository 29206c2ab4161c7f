package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// runOperational pins the operational events the store records in the
// transactions that make the changes they report.
func runOperational(t *testing.T, open func(t *testing.T) hookline.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"OperationalFailingRecoveredExhausted", testOperationalHealth},
		{"OperationalGone", testOperationalGone},
		{"OperationalLeaseLost", testOperationalLeaseLost},
		{"OperationalQuietForOperationalDeliveries", testOperationalQuiet},
		{"OperationalDisableFailing", testOperationalDisableFailing},
		{"OperationalOncePerChange", testOperationalOncePerChange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newFixture(t, open))
		})
	}
}

// opSummary is what the tests compare of an operational event.
type opSummary struct {
	Type, EndpointID, EventID, Reason string
	Status                            int
	Error                             string
}

func (o opSummary) String() string {
	return fmt.Sprintf("%s(%s, %s, %d %q, %q)", o.Type, o.EndpointID, o.EventID, o.Status, o.Error, o.Reason)
}

// operational waits (a store may record some changes in a background
// flush, within moments) until want operational events are recorded, then
// returns them all, deleting them.
func (f *fixture) operational(want int) []*hookline.OperationalEvent {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var got []*hookline.OperationalEvent
	for {
		var err error
		got, err = f.s.OperationalEvents(f.ctx, 100)
		if err != nil {
			f.t.Fatalf("OperationalEvents: %v", err)
		}
		if len(got) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	seqs := make([]int64, len(got))
	for i, o := range got {
		seqs[i] = o.Seq
	}
	if err := f.s.DeleteOperationalEvents(f.ctx, seqs); err != nil {
		f.t.Fatalf("DeleteOperationalEvents: %v", err)
	}
	return got
}

// wantOperational fails unless the recorded operational events are want,
// in order (and deletes them).
func (f *fixture) wantOperational(want ...opSummary) []*hookline.OperationalEvent {
	f.t.Helper()
	got := f.operational(len(want))
	var gotS []opSummary
	for _, o := range got {
		s := opSummary{Type: o.Type, EndpointID: o.EndpointID, EventID: o.EventID, Reason: o.Reason}
		if o.Attempt != nil {
			s.Status, s.Error = o.Attempt.Status, o.Attempt.Error
		}
		gotS = append(gotS, s)
	}
	if fmt.Sprint(gotS) != fmt.Sprint(want) {
		f.t.Fatalf("operational events\n got %v\nwant %v", gotS, want)
	}
	return got
}

func testOperationalHealth(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"*"}, tenant("acme"), func(e *hookline.Endpoint) { e.Description = "Billing" })
	var evs []*hookline.Event
	for range 4 {
		ev := event("a.b", "acme", base)
		f.publish(hookline.PublishOptions{}, ev)
		evs = append(evs, ev)
	}
	tasks := f.claim("w", base, time.Hour, 4)
	if len(tasks) != 4 {
		t.Fatalf("claimed %d", len(tasks))
	}
	// Nothing has changed yet.
	f.wantOperational()

	// The first failure: failing, naming the endpoint as it is, the event
	// and the attempt.
	f.complete("w", retry(tasks[0], at(time.Second), at(time.Hour)))
	got := f.wantOperational(opSummary{hookline.OpDeliveryFailing, ep.ID, evs[0].ID, "", 500, "status 500"})
	o := got[0]
	if o.EndpointURL != ep.URL || o.EndpointDescription != "Billing" || o.Tenant != "acme" || o.Key == "" {
		t.Fatalf("failing event %+v does not name the endpoint %s (%s, Billing, acme)", o, ep.ID, ep.URL)
	}
	// Another failure changes nothing.
	f.complete("w", retry(tasks[1], at(2*time.Second), at(time.Hour)))
	f.wantOperational()
	// A success: recovered.
	f.complete("w", succeeded(tasks[2], at(3*time.Second)))
	f.wantOperational(opSummary{hookline.OpDeliveryRecovered, ep.ID, evs[2].ID, "", 200, ""})
	// Retries run out: failing again, and exhausted.
	f.complete("w", failed(tasks[3], at(4*time.Second)))
	f.wantOperational(
		opSummary{hookline.OpDeliveryFailing, ep.ID, evs[3].ID, "", 500, "status 500"},
		opSummary{hookline.OpDeliveryExhausted, ep.ID, evs[3].ID, "", 500, "status 500"},
	)

	// One batch that succeeds then fails: recovered, then failing.
	var more []*hookline.Event
	for range 2 {
		ev := event("a.b", "acme", base)
		f.publish(hookline.PublishOptions{}, ev)
		more = append(more, ev)
	}
	tasks = f.claim("w", at(5*time.Second), time.Hour, 2)
	if len(tasks) != 2 {
		t.Fatalf("claimed %d", len(tasks))
	}
	byEvent := map[string]*hookline.Task{tasks[0].Event.ID: tasks[0], tasks[1].Event.ID: tasks[1]}
	f.complete("w", succeeded(byEvent[more[0].ID], at(6*time.Second)), retry(byEvent[more[1].ID], at(7*time.Second), at(time.Hour)))
	f.wantOperational(
		opSummary{hookline.OpDeliveryRecovered, ep.ID, more[0].ID, "", 200, ""},
		opSummary{hookline.OpDeliveryFailing, ep.ID, more[1].ID, "", 500, "status 500"},
	)
	// Deleted events are gone; deleting them again is no error.
	if err := f.s.DeleteOperationalEvents(f.ctx, []int64{got[0].Seq, 1 << 40}); err != nil {
		t.Fatal(err)
	}
	f.wantOperational()
}

func testOperationalGone(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"*"})
	ev := f.publishAt("a.b", base)
	task := f.claim("w", base, time.Hour, 1)[0]
	c := failed(task, at(time.Second))
	c.Attempt.ResponseStatus, c.Attempt.Error = 410, "endpoint answered 410 Gone: disabled"
	c.DisableEndpoint = "endpoint answered 410 Gone"
	f.complete("w", c)
	// Failing and disabled; not exhausted: the retries did not run out.
	f.wantOperational(
		opSummary{hookline.OpDeliveryFailing, ep.ID, ev.ID, "", 410, c.Attempt.Error},
		opSummary{hookline.OpEndpointDisabled, ep.ID, ev.ID, c.DisableEndpoint, 410, c.Attempt.Error},
	)
	// A second 410 of an endpoint disabled already disables nothing.
	ep2 := f.endpoint([]string{"x.y"})
	f.publishAt("x.y", base)
	task = f.claim("w", base, time.Hour, 1)[0]
	if task.Endpoint.ID != ep2.ID {
		t.Fatalf("claimed a delivery to %s", task.Endpoint.ID)
	}
	e := f.getEndpoint(ep2.ID)
	e.Status, e.DisabledReason = hookline.EndpointDisabled, "by hand"
	if err := f.s.UpdateEndpoint(f.ctx, e); err != nil {
		t.Fatal(err)
	}
	c = failed(task, at(2*time.Second))
	c.Attempt.ResponseStatus, c.DisableEndpoint = 410, "endpoint answered 410 Gone"
	f.complete("w", c)
	got := f.operational(1)
	for _, o := range got {
		if o.Type == hookline.OpEndpointDisabled {
			t.Fatalf("a 410 to an endpoint disabled already recorded %+v", o)
		}
	}
}

func testOperationalLeaseLost(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"*"})
	ev := f.publishAt("a.b", base)
	task := f.claim("w", base, time.Hour, 1)[0]
	// Another owner's completion records the attempt but does not finish
	// the delivery: no exhausted event (the holder's attempt decides).
	f.complete("other", failed(task, at(time.Second)))
	f.wantOperational(opSummary{hookline.OpDeliveryFailing, ep.ID, ev.ID, "", 500, "status 500"})
	if d := f.delivery(ev.ID); d.Status != hookline.DeliveryPending {
		t.Fatalf("delivery %s after a completion without the lease", d.Status)
	}
	f.complete("w", failed(task, at(2*time.Second)))
	f.wantOperational(opSummary{hookline.OpDeliveryExhausted, ep.ID, ev.ID, "", 500, "status 500"})
}

// Deliveries of operational events make no delivery.* events, so an
// endpoint subscribed to them that fails cannot feed itself.
func testOperationalQuiet(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"hookline.*"})
	f.publishAt(hookline.OpDeliveryFailing, base)
	f.publishAt(hookline.OpDeliveryRecovered, base)
	tasks := f.claim("w", base, time.Hour, 2)
	if len(tasks) != 2 {
		t.Fatalf("claimed %d", len(tasks))
	}
	f.complete("w", failed(tasks[0], at(time.Second)))
	f.wantOperational()
	if got := f.getEndpoint(ep.ID); !got.FailingSince.Equal(at(time.Second)) {
		t.Fatalf("the failure of an operational delivery did not count in the endpoint's health: FailingSince %v", got.FailingSince)
	}
	f.complete("w", succeeded(tasks[1], at(2*time.Second)))
	f.wantOperational()
	// A 410 still disables, and says so: that happens once.
	f.publishAt(hookline.OpEndpointEnabled, base)
	task := f.claim("w", base, time.Hour, 1)[0]
	c := failed(task, at(3*time.Second))
	c.Attempt.ResponseStatus, c.DisableEndpoint = 410, "endpoint answered 410 Gone"
	f.complete("w", c)
	got := f.operational(1)
	if len(got) != 1 || got[0].Type != hookline.OpEndpointDisabled {
		t.Fatalf("a 410 to an operational delivery recorded %d events, want endpoint.disabled alone", len(got))
	}
}

func testOperationalDisableFailing(t *testing.T, f *fixture) {
	failing := f.endpoint([]string{"*"}, tenant("acme"))
	silent := f.endpoint([]string{"x.y"}) // failing, but never attempted: no last attempt
	f.endpoint([]string{"z.z"})           // healthy
	ev := event("a.b", "acme", base)
	f.publish(hookline.PublishOptions{}, ev)
	tasks := f.claim("w", base, time.Hour, 10)
	if len(tasks) != 1 {
		t.Fatalf("claimed %d", len(tasks))
	}
	f.complete("w", retry(tasks[0], at(time.Second), at(time.Hour)))
	f.operational(1)
	e := f.getEndpoint(silent.ID)
	e.FailingSince = at(time.Second)
	if err := f.s.UpdateEndpoint(f.ctx, e); err != nil {
		t.Fatal(err)
	}
	ids, err := f.s.DisableFailingEndpoints(f.ctx, at(time.Hour), "every attempt failed for 5 days")
	if err != nil || len(ids) != 2 {
		t.Fatalf("DisableFailingEndpoints: %v, %v", ids, err)
	}
	got := f.operational(2)
	byEndpoint := map[string]*hookline.OperationalEvent{}
	for _, o := range got {
		if o.Type != hookline.OpEndpointDisabled || o.Reason != "every attempt failed for 5 days" {
			t.Fatalf("recorded %+v", o)
		}
		byEndpoint[o.EndpointID] = o
	}
	if o := byEndpoint[failing.ID]; o == nil || o.Tenant != "acme" || o.EventID != ev.ID || o.Attempt == nil || o.Attempt.Status != 500 {
		t.Fatalf("disabled %s: %+v", failing.ID, o)
	}
	if o := byEndpoint[silent.ID]; o == nil || o.EventID != "" || o.Attempt != nil {
		t.Fatalf("disabled %s (never attempted): %+v", silent.ID, o)
	}
	// Run again: nothing more is disabled or recorded.
	if ids, err := f.s.DisableFailingEndpoints(f.ctx, at(time.Hour), "again"); err != nil || len(ids) != 0 {
		t.Fatalf("again: %v, %v", ids, err)
	}
	f.wantOperational()
}

// Completions of one endpoint's deliveries committed concurrently (as by
// several nodes sharing a database) record its change once. Several
// rounds, as a race lost once in a while is still a race.
func testOperationalOncePerChange(t *testing.T, f *fixture) {
	const n, rounds = 8, 20
	for round := range rounds {
		typ := fmt.Sprintf("r%d.x", round)
		ep := f.endpoint([]string{typ})
		for range n {
			f.publishAt(typ, base)
		}
		tasks := f.claim("w", base, time.Hour, n)
		if len(tasks) != n {
			t.Fatalf("claimed %d", len(tasks))
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, task := range tasks {
			wg.Go(func() {
				<-start
				if err := f.s.CompleteTasks(f.ctx, "w", []hookline.Completion{retry(task, at(time.Duration(i+1)*time.Second), at(time.Hour))}); err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		want := 1
		if round == rounds-1 {
			want = 2 // waits for a second one, which must not come
		}
		got := f.operational(want)
		if len(got) != 1 || got[0].Type != hookline.OpDeliveryFailing || got[0].EndpointID != ep.ID {
			t.Fatalf("round %d: %d concurrent first failures recorded %d events: %+v", round, n, len(got), got)
		}
	}
}
