package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// runCircuit pins the circuit breaker (issue 18): transitions decided in
// CompleteTasks, the claim rule around an open circuit, and one
// transition when several owners complete at once.
func runCircuit(t *testing.T, open func(t *testing.T) hookline.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"CircuitTransitions", testCircuitTransitions},
		{"CircuitOneTransition", testCircuitOneTransition},
		{"CircuitSurvivesUpdate", testCircuitSurvivesUpdate},
		{"CircuitEventsWithTransitions", testCircuitEventsWithTransitions},
		{"CircuitIgnoresHeld", testCircuitIgnoresHeld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newFixture(t, open))
		})
	}
}

var testBreaker = hookline.BreakerRule{CoolDown: 30 * time.Second, MaxCoolDown: 90 * time.Second}

// breaking is a completion carrying the test rule.
func breaking(c hookline.Completion) hookline.Completion {
	c.Breaker = &hookline.BreakerCheck{Rule: testBreaker}
	return c
}

// testCircuitTransitions walks one endpoint through closed → open →
// half_open (one probe claimed) → reopened (doubled, capped) → half_open
// → closed, and checks what a claim leases at each step.
func testCircuitTransitions(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) { e.BreakerFailures = 3; e.MaxConcurrency = 5 })
	for range 8 {
		f.publishAt("a.b", base)
	}
	claimAt := func(now time.Time) []*hookline.Task {
		return f.claimReq(hookline.ClaimRequest{Owner: "w", Now: now, Lease: time.Minute, Limit: 100, MaxConcurrency: 10})
	}
	tasks := claimAt(at(time.Second))
	if len(tasks) != 5 {
		t.Fatalf("claimed %d, want the cap of 5", len(tasks))
	}
	due := at(2 * time.Second) // the failed ones are due again at once
	for i, want := range []string{"", "", hookline.TransitionOpened} {
		c := breaking(retry(tasks[i], at(time.Duration(i+1)*time.Second), due))
		f.complete("w", c)
		if c.Breaker.Transition != want {
			t.Fatalf("failure %d made transition %q, want %q", i+1, c.Breaker.Transition, want)
		}
		if c.Breaker.Circuit.ConsecutiveFailures != i+1 {
			t.Fatalf("failure %d: count %d", i+1, c.Breaker.Circuit.ConsecutiveFailures)
		}
	}
	// It opened when the third attempt ended (at 3 s + 12 ms), for 30 s.
	opened := at(3*time.Second + 12*time.Millisecond)
	got := f.getEndpoint(ep.ID).Circuit
	if got.State != hookline.CircuitOpen || !got.OpenedAt.Equal(opened) || !got.NextProbeAt.Equal(opened.Add(30*time.Second)) {
		t.Fatalf("after 3 failures: %+v, want open at %v until +30s", got, opened)
	}
	if s := got.StateAt(opened.Add(29 * time.Second)); s != hookline.CircuitOpen {
		t.Fatalf("state before the probe %q", s)
	}
	// A failure of an attempt in flight when it opened counts, and moves
	// nothing.
	late := breaking(retry(tasks[3], at(3*time.Second), due))
	f.complete("w", late)
	if late.Breaker.Transition != "" || late.Breaker.Circuit.ConsecutiveFailures != 4 {
		t.Fatalf("in-flight failure: %+v", late.Breaker)
	}
	// A success made before it opened does not close it.
	early := breaking(succeeded(tasks[4], at(2*time.Second)))
	f.complete("w", early)
	if early.Breaker.Transition != "" || !early.Breaker.Circuit.Open() {
		t.Fatalf("a success from before the opening: %+v", early.Breaker)
	}
	// While open nothing is claimed, though 7 are due.
	if got := claimAt(opened.Add(29 * time.Second)); len(got) != 0 {
		t.Fatalf("claimed %d while open", len(got))
	}
	// Half open: one probe, and only one.
	probeAt := opened.Add(30 * time.Second)
	probe := claimAt(probeAt)
	if len(probe) != 1 {
		t.Fatalf("half open: claimed %d, want 1 probe", len(probe))
	}
	if more := f.claimReq(hookline.ClaimRequest{Owner: "other", Now: probeAt, Lease: time.Minute, Limit: 100, MaxConcurrency: 10}); len(more) != 0 {
		t.Fatalf("another owner claimed %d beside the probe", len(more))
	}
	// The probe fails: reopened for twice the cool-down.
	c := breaking(retry(probe[0], probeAt, probeAt))
	f.complete("w", c)
	reopened := probeAt.Add(12 * time.Millisecond)
	if c.Breaker.Transition != hookline.TransitionReopened || !c.Breaker.Circuit.NextProbeAt.Equal(reopened.Add(time.Minute)) {
		t.Fatalf("probe failure: %+v, want reopened until %v", c.Breaker, reopened.Add(time.Minute))
	}
	// Auto-disable counts from the first failure after the last success
	// (the stale one above): the failed probe.
	firstFailure := probeAt
	sameTime(t, "FailingSince after a failed probe", f.getEndpoint(ep.ID).FailingSince, firstFailure)
	if got := claimAt(reopened.Add(59 * time.Second)); len(got) != 0 {
		t.Fatalf("claimed %d while reopened", len(got))
	}
	// Next failed probe: doubled to 2 min, capped at 90 s.
	probeAt = reopened.Add(time.Minute)
	probe = claimAt(probeAt)
	if len(probe) != 1 {
		t.Fatalf("second half open: claimed %d", len(probe))
	}
	c = breaking(retry(probe[0], probeAt, probeAt))
	f.complete("w", c)
	if cd := c.Breaker.Circuit.CoolDown; cd != 90*time.Second {
		t.Fatalf("cool-down %v, want the cap of 90s", cd)
	}
	// Later failed probes do not move it.
	sameTime(t, "FailingSince after two failed probes", f.getEndpoint(ep.ID).FailingSince, firstFailure)
	probeAt = c.Breaker.Circuit.NextProbeAt
	probe = claimAt(probeAt)
	if len(probe) != 1 {
		t.Fatalf("third half open: claimed %d", len(probe))
	}
	// The probe succeeds: closed, and the backlog goes at the cap.
	c = breaking(succeeded(probe[0], probeAt))
	f.complete("w", c)
	if c.Breaker.Transition != hookline.TransitionClosed {
		t.Fatalf("probe success made %q", c.Breaker.Transition)
	}
	got = f.getEndpoint(ep.ID).Circuit
	if got.State != hookline.CircuitClosed || got.ConsecutiveFailures != 0 || !got.NextProbeAt.IsZero() {
		t.Fatalf("after closing: %+v", got)
	}
	if rest := claimAt(probeAt.Add(time.Second)); len(rest) != 5 {
		t.Fatalf("after closing claimed %d, want the cap of 5", len(rest))
	}
	// Auto-disable still counts from the first failure: no probe reset it
	// before the success.
	if fs := f.getEndpoint(ep.ID).FailingSince; !fs.IsZero() {
		t.Fatalf("a success left FailingSince %v", fs)
	}
}

// testCircuitIgnoresHeld: a failed completion marked Held (a 429 whose
// Retry-After holds the endpoint) neither counts towards opening the
// circuit nor makes a transition, on a closed circuit as on a probe; the
// failures around it count as before.
func testCircuitIgnoresHeld(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) { e.BreakerFailures = 2; e.MaxConcurrency = 10 })
	for range 6 {
		f.publishAt("a.b", base)
	}
	tasks := f.claimReq(hookline.ClaimRequest{Owner: "w", Now: at(time.Second), Lease: time.Minute, Limit: 100, MaxConcurrency: 10})
	if len(tasks) != 6 {
		t.Fatalf("claimed %d, want 6", len(tasks))
	}
	held := func(c hookline.Completion) hookline.Completion {
		c = breaking(c)
		c.Breaker.Held = true
		return c
	}
	due := at(time.Hour)
	for i, c := range []hookline.Completion{
		held(retry(tasks[0], at(time.Second), due)),
		held(retry(tasks[1], at(2*time.Second), due)),
		held(retry(tasks[2], at(3*time.Second), due)),
		breaking(retry(tasks[3], at(4*time.Second), due)),
	} {
		f.complete("w", c)
		if c.Breaker.Transition != "" {
			t.Fatalf("completion %d made transition %q", i+1, c.Breaker.Transition)
		}
	}
	if got := f.getEndpoint(ep.ID).Circuit; got.State != hookline.CircuitClosed || got.ConsecutiveFailures != 1 {
		t.Fatalf("after three held failures and one more: %+v, want closed with 1 failure counted", got)
	}
	// The next failure that counts is the second in a row: it opens.
	c := breaking(retry(tasks[4], at(5*time.Second), due))
	f.complete("w", c)
	if c.Breaker.Transition != hookline.TransitionOpened {
		t.Fatalf("the second counted failure made %q, want it opened", c.Breaker.Transition)
	}
	// A held answer to the probe leaves the circuit open as it was.
	before := f.getEndpoint(ep.ID).Circuit
	c = held(retry(tasks[5], before.NextProbeAt, due))
	f.complete("w", c)
	if after := f.getEndpoint(ep.ID).Circuit; c.Breaker.Transition != "" || !after.NextProbeAt.Equal(before.NextProbeAt) || after.ConsecutiveFailures != before.ConsecutiveFailures {
		t.Fatalf("a held probe moved the circuit: %+v then %+v (%q)", before, after, c.Breaker.Transition)
	}
}

// testCircuitOneTransition: owners completing failures of one endpoint at
// once make one transition between them, and every failure counts.
func testCircuitOneTransition(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) { e.BreakerFailures = 2 })
	const owners = 6
	for range owners {
		f.publishAt("a.b", base)
	}
	var tasks []*hookline.Task
	for i := range owners {
		got := f.claimReq(hookline.ClaimRequest{Owner: string(rune('a' + i)), Now: at(time.Second), Lease: time.Minute,
			Limit: 1, MaxConcurrency: 100})
		if len(got) != 1 {
			t.Fatalf("owner %d claimed %d", i, len(got))
		}
		tasks = append(tasks, got[0])
	}
	cs := make([]hookline.Completion, owners)
	var wg sync.WaitGroup
	errs := make(chan error, owners)
	for i := range owners {
		cs[i] = breaking(retry(tasks[i], at(2*time.Second), at(time.Hour)))
		wg.Go(func() {
			errs <- f.s.CompleteTasks(f.ctx, string(rune('a'+i)), cs[i:i+1])
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("CompleteTasks: %v", err)
		}
	}
	opened := 0
	for _, c := range cs {
		if c.Breaker.Transition == hookline.TransitionOpened {
			opened++
		}
	}
	got := f.getEndpoint(ep.ID).Circuit
	if opened != 1 || got.State != hookline.CircuitOpen || got.ConsecutiveFailures != owners {
		t.Fatalf("%d owners at once: %d transitions, circuit %+v; want 1, open, %d failures", owners, opened, got, owners)
	}
	// One transition, one circuit_opened (the failing event beside it).
	if evs := f.circuitEvents(2); len(evs) != 1 || evs[0].Type != hookline.OpCircuitOpened {
		t.Fatalf("%d owners at once recorded circuit events %+v; want one circuit_opened", owners, evs)
	}
}

// circuitEvents waits until want operational events are recorded (of any
// type), deletes them all and returns the circuit ones among them.
func (f *fixture) circuitEvents(want int) []*hookline.OperationalEvent {
	f.t.Helper()
	var out []*hookline.OperationalEvent
	for _, o := range f.operational(want) {
		if o.Type == hookline.OpCircuitOpened || o.Type == hookline.OpCircuitClosed {
			out = append(out, o)
		}
	}
	return out
}

// testCircuitEventsWithTransitions: each transition CompleteTasks makes
// records its operational event in the same transaction, and only a
// transition does: closed → open and a failed probe's half_open → open
// record circuit_opened (with the next probe), the probe's success
// circuit_closed; failures in between record none. A completion that
// fails leaves neither the circuit's change nor its event.
func testCircuitEventsWithTransitions(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"*"}, tenant("acme"), func(e *hookline.Endpoint) { e.BreakerFailures = 2; e.Description = "flaky" })
	for range 6 {
		f.publish(hookline.PublishOptions{}, event("a.b", "acme", base))
	}
	claimAt := func(now time.Time, limit int) []*hookline.Task {
		return f.claimReq(hookline.ClaimRequest{Owner: "w", Now: now, Lease: time.Hour, Limit: limit, MaxConcurrency: 10})
	}
	wantOpened := func(what string, evs []*hookline.OperationalEvent, cause hookline.Completion) {
		t.Helper()
		c := f.getEndpoint(ep.ID).Circuit
		if len(evs) != 1 || evs[0].Type != hookline.OpCircuitOpened || !c.Open() {
			t.Fatalf("%s: circuit %+v, events %+v; want open and one circuit_opened", what, c, evs)
		}
		o := evs[0]
		if o.EndpointID != ep.ID || o.EndpointURL != ep.URL || o.EndpointDescription != "flaky" || o.Tenant != "acme" ||
			o.EventID != cause.Attempt.EventID || o.Attempt == nil || o.Attempt.Status != 500 || o.Attempt.Error != "status 500" ||
			o.Key == "" {
			t.Fatalf("%s: event %+v does not name the endpoint and the attempt %+v", what, o, cause.Attempt)
		}
		sameTime(t, what+": next probe", o.NextProbeAt, c.NextProbeAt)
	}
	tasks := claimAt(at(time.Second), 4)
	if len(tasks) != 4 {
		t.Fatalf("claimed %d", len(tasks))
	}
	first := breaking(retry(tasks[0], at(time.Second), at(time.Second)))
	f.complete("w", first)
	if evs := f.circuitEvents(1); len(evs) != 0 { // delivery.failing alone
		t.Fatalf("the first failure recorded circuit events %+v", evs)
	}
	second := breaking(retry(tasks[1], at(2*time.Second), at(2*time.Second)))
	f.complete("w", second)
	wantOpened("the second failure", f.circuitEvents(1), second)
	// A failure of an attempt in flight when it opened moves nothing and
	// records nothing (waits for a second event, which must not come).
	f.complete("w", breaking(retry(tasks[2], at(2*time.Second), at(2*time.Second))))
	if evs := f.circuitEvents(1); len(evs) != 0 {
		t.Fatalf("an in-flight failure recorded %+v", evs)
	}
	// The probe fails: reopened, announced again, with its new probe.
	probeAt := f.getEndpoint(ep.ID).Circuit.NextProbeAt
	probe := claimAt(probeAt, 10)
	if len(probe) != 1 {
		t.Fatalf("half open: claimed %d", len(probe))
	}
	reopen := breaking(retry(probe[0], probeAt, probeAt))
	f.complete("w", reopen)
	if reopen.Breaker.Transition != hookline.TransitionReopened {
		t.Fatalf("failed probe made %q", reopen.Breaker.Transition)
	}
	wantOpened("the failed probe", f.circuitEvents(1), reopen)
	// The next probe succeeds: circuit_closed, naming it.
	probeAt = f.getEndpoint(ep.ID).Circuit.NextProbeAt
	probe = claimAt(probeAt, 10)
	if len(probe) != 1 {
		t.Fatalf("second half open: claimed %d", len(probe))
	}
	closing := breaking(succeeded(probe[0], probeAt))
	f.complete("w", closing)
	evs := f.circuitEvents(2) // recovered and circuit_closed
	if len(evs) != 1 || evs[0].Type != hookline.OpCircuitClosed || evs[0].EventID != closing.Attempt.EventID ||
		evs[0].Attempt == nil || evs[0].Attempt.Status != 200 || !evs[0].NextProbeAt.IsZero() {
		t.Fatalf("a successful probe recorded %+v; want one circuit_closed naming %s", evs, closing.Attempt.EventID)
	}
	if c := f.getEndpoint(ep.ID).Circuit; c.Open() {
		t.Fatalf("after the probe succeeded: %+v", c)
	}

	// A batch of two failures that would open it again, whose second
	// attempt reuses the first's id: the batch fails, and neither the
	// circuit's change nor an event is left.
	rest := claimAt(probeAt.Add(time.Second), 10)
	if len(rest) < 2 {
		t.Fatalf("after closing claimed %d", len(rest))
	}
	a := breaking(retry(rest[0], probeAt.Add(time.Second), probeAt.Add(time.Hour)))
	b := breaking(retry(rest[1], probeAt.Add(time.Second), probeAt.Add(time.Hour)))
	b.Attempt.ID = a.Attempt.ID
	if err := f.s.CompleteTasks(f.ctx, "w", []hookline.Completion{a, b}); err == nil {
		t.Fatal("a batch with a repeated attempt id was recorded")
	}
	if c := f.getEndpoint(ep.ID).Circuit; c.Open() || c.ConsecutiveFailures != 0 {
		t.Fatalf("a failed batch left the circuit %+v", c)
	}
	if got := f.operational(1); len(got) != 0 { // waits for one, which must not come
		t.Fatalf("a failed batch left operational events %+v", got)
	}
}

// testCircuitSurvivesUpdate: the endpoint's breaker_failures round-trips;
// an update leaves the circuit, which only completions write, alone.
func testCircuitSurvivesUpdate(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) { e.BreakerFailures = 1 })
	f.publishAt("a.b", base)
	task := f.claim("w", at(time.Second), time.Minute, 1)[0]
	f.complete("w", breaking(retry(task, at(time.Second), at(time.Hour))))
	e := f.getEndpoint(ep.ID)
	if e.BreakerFailures != 1 || !e.Circuit.Open() {
		t.Fatalf("read back %d failures, circuit %+v", e.BreakerFailures, e.Circuit)
	}
	e.BreakerFailures, e.Circuit = 7, hookline.Circuit{State: hookline.CircuitClosed}
	if err := f.s.UpdateEndpoint(f.ctx, e); err != nil {
		t.Fatal(err)
	}
	e = f.getEndpoint(ep.ID)
	if e.BreakerFailures != 7 || !e.Circuit.Open() {
		t.Fatalf("after update: %d failures, circuit %+v; want 7 and still open", e.BreakerFailures, e.Circuit)
	}
}
