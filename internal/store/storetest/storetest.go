package storetest

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Run runs the conformance suite against the store that open makes. open
// must return a new, empty store, independent of every other store it
// returns, and arrange for it to be closed when t ends (t.Cleanup); the
// subtests call it once each and run in parallel.
func Run(t *testing.T, open func(t *testing.T) hookline.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"EndpointRoundTrip", testEndpointRoundTrip},
		{"EndpointErrors", testEndpointErrors},
		{"UpdateEndpoint", testUpdateEndpoint},
		{"ListEndpoints", testListEndpoints},
		{"EventRoundTrip", testEventRoundTrip},
		{"ListEvents", testListEvents},
		{"FanOut", testFanOut},
		{"Idempotency", testIdempotency},
		{"LeasedAtPublish", testLeasedAtPublish},
		{"ClaimDueOnly", testClaimDueOnly},
		{"ClaimFair", testClaimFair},
		{"ClaimLeaseCoversTimeout", testClaimLeaseCoversTimeout},
		{"ClaimCapAcrossOwners", testClaimCapAcrossOwners},
		{"ClaimEnabledEndpointsOnly", testClaimEnabledEndpointsOnly},
		{"ClaimLeases", testClaimLeases},
		{"ClaimTaskContents", testClaimTaskContents},
		{"ClaimConcurrent", testClaimConcurrent},
		{"CompleteOutcomes", testCompleteOutcomes},
		{"CompleteRecordsAttempt", testCompleteRecordsAttempt},
		{"CompleteWithoutLease", testCompleteWithoutLease},
		{"CompleteEndpointHealth", testCompleteEndpointHealth},
		{"ReleaseTasks", testReleaseTasks},
		{"ReleaseOwner", testReleaseOwner},
		{"Resend", testResend},
		{"DeleteEndpoint", testDeleteEndpoint},
		{"DisableFailingEndpoints", testDisableFailingEndpoints},
		{"ListAttempts", testListAttempts},
		{"Backlog", testBacklog},
		{"Settings", testSettings},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newFixture(t, open))
		})
	}
	runScaleOut(t, open) // retention and cluster primitives (retention.go)
	runStats(t, open)    // dashboard aggregates (stats.go)
	runInbound(t, open)  // sources, connections, captured requests (inbound.go)
	runOnlyEndpoint(t, open)
	runEndpointOptions(t, open) // filter, headers, retry schedule (endpoint_options.go)
	runJobs(t, open)            // background jobs (jobs.go)
	runSessions(t, open)        // dashboard sessions (sessions.go)
	runOperational(t, open)     // operational events recorded with their changes (operational.go)
	runPacing(t, open)          // ordering, rate limits, holds (pacing.go)
	runCircuit(t, open)         // circuit breaker (circuit.go)
}

func testEndpointRoundTrip(t *testing.T, f *fixture) {
	cases := []struct {
		name string
		mod  func(*hookline.Endpoint)
	}{
		{"minimal", func(e *hookline.Endpoint) {}},
		{"every field", func(e *hookline.Endpoint) {
			e.URL = "https://example.test/hooks?a=1&b=ü"
			e.EnabledEvents = []string{"invoice.*", "customer.created", "*"}
			e.Description = "Billing — \"prod\"\n"
			e.Metadata = map[string]string{"team": "billing", "emoji": "🎉", "empty": "", "quote": `"x"`}
			e.Tenant = "acme"
			e.Status = hookline.EndpointDisabled
			e.DisabledReason = "endpoint answered 410 Gone"
			e.SignatureScheme = hookline.SchemeStripe
			e.PreviousSecret = "whsec_previous"
			e.PreviousSecretExpires = at(24*time.Hour + 123*time.Millisecond)
			e.FailingSince = at(-time.Hour + 7*time.Millisecond)
			e.Created = at(-48 * time.Hour)
			e.Updated = at(-time.Minute)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := f.with(t)
			e := f.endpoint([]string{"*"}, c.mod)
			sameEndpoint(t, f.getEndpoint(e.ID), e)
		})
	}
}

func testEndpointErrors(t *testing.T, f *fixture) {
	e := f.endpoint([]string{"*"})
	dup := *e
	dup.URL = "https://other.test/"
	wantCode(t, f.s.CreateEndpoint(f.ctx, &dup), hookline.ECONFLICT)
	sameEndpoint(t, f.getEndpoint(e.ID), e) // the conflict changed nothing

	_, err := f.s.Endpoint(f.ctx, "ep_missing")
	wantCode(t, err, hookline.ENOTFOUND)
	missing := *e
	missing.ID = "ep_missing"
	wantCode(t, f.s.UpdateEndpoint(f.ctx, &missing), hookline.ENOTFOUND)
	wantCode(t, f.s.DeleteEndpoint(f.ctx, "ep_missing"), hookline.ENOTFOUND)

	if err := f.s.DeleteEndpoint(f.ctx, e.ID); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}
	_, err = f.s.Endpoint(f.ctx, e.ID)
	wantCode(t, err, hookline.ENOTFOUND)
	wantCode(t, f.s.DeleteEndpoint(f.ctx, e.ID), hookline.ENOTFOUND)
}

func testUpdateEndpoint(t *testing.T, f *fixture) {
	e := f.endpoint([]string{"invoice.paid"}, func(e *hookline.Endpoint) {
		e.Metadata = map[string]string{"a": "1"}
		e.PreviousSecret = "whsec_old"
		e.PreviousSecretExpires = at(time.Hour)
	})
	u := &hookline.Endpoint{
		ID:                    e.ID,
		URL:                   "https://new.test/x",
		EnabledEvents:         []string{"customer.*"},
		Description:           "new",
		Metadata:              map[string]string{"b": "2"},
		Tenant:                "t2",
		Status:                hookline.EndpointDisabled,
		DisabledReason:        "why",
		SignatureScheme:       hookline.SchemeStripe,
		Secret:                "whsec_new",
		PreviousSecret:        "",
		PreviousSecretExpires: time.Time{},
		FailingSince:          at(time.Minute),
		Created:               at(99 * time.Hour), // ignored: Created is never rewritten
		Updated:               at(2 * time.Hour),
	}
	if err := f.s.UpdateEndpoint(f.ctx, u); err != nil {
		t.Fatalf("UpdateEndpoint: %v", err)
	}
	want := *u
	want.Created = e.Created
	sameEndpoint(t, f.getEndpoint(e.ID), &want)
}

func testListEndpoints(t *testing.T, f *fixture) {
	var all, acme []string
	for i := range 23 {
		ten := ""
		if i%3 == 0 {
			ten = "acme"
		}
		e := f.endpoint([]string{"*"}, tenant(ten))
		all = append(all, e.ID)
		if ten == "acme" {
			acme = append(acme, e.ID)
		}
	}
	list := func(ten string) func(p hookline.Page) ([]string, bool, error) {
		return func(p hookline.Page) ([]string, bool, error) {
			es, more, err := f.s.ListEndpoints(f.ctx, hookline.EndpointFilter{Page: p, Tenant: ten})
			ids := make([]string, len(es))
			for i, e := range es {
				ids[i] = e.ID
			}
			return ids, more, err
		}
	}
	for _, c := range []struct {
		tenant string
		limit  int
		want   []string
	}{
		{"", 0, all}, {"", 1, all}, {"", 7, all}, {"", 23, all}, {"", 100, all},
		{"acme", 0, acme}, {"acme", 3, acme}, {"acme", 8, acme},
		{"nobody", 5, nil},
	} {
		t.Run(fmt.Sprintf("tenant=%q/limit=%d", c.tenant, c.limit), func(t *testing.T) {
			got := walk(t, c.limit, list(c.tenant))
			if want := reversed(c.want); !slices.Equal(got, want) {
				t.Fatalf("got %v, want newest first %v", got, want)
			}
		})
	}
	es, _, err := f.s.ListEndpoints(f.ctx, hookline.EndpointFilter{Page: hookline.Page{Limit: 1}})
	if err != nil {
		t.Fatal(err)
	}
	sameEndpoint(t, es[0], f.getEndpoint(all[len(all)-1])) // lists return whole endpoints
}

func testEventRoundTrip(t *testing.T, f *fixture) {
	f.endpoint([]string{"*"})
	// Byte for byte: odd spacing, key order, escapes and non-ASCII must all
	// survive, because signatures are computed over these exact bytes.
	odd := &hookline.Event{
		ID:             hookline.NewID("evt"),
		Type:           "invoice.paid",
		Created:        at(time.Second),
		Tenant:         "acme",
		Payload:        []byte("{\"z\":1,  \"a\" : [1.50, 1e3, \"\\u00e9\\n\\\"\"], \"é\":\"🎉\", \"n\":null}\n"),
		IdempotencyKey: "key-1",
	}
	plain := event("customer.created", "", at(2*time.Second))
	got := f.publish(hookline.PublishOptions{IdempotencyWindow: time.Hour}, odd, plain)
	for i, want := range []*hookline.Event{odd, plain} {
		if got[i].Duplicate {
			t.Fatalf("event %d reported as duplicate", i)
		}
		sameEvent(t, got[i].Event, want)
		stored, err := f.s.Event(f.ctx, want.ID)
		if err != nil {
			t.Fatalf("Event: %v", err)
		}
		sameEvent(t, stored, want)
	}
	_, err := f.s.Event(f.ctx, "evt_missing")
	wantCode(t, err, hookline.ENOTFOUND)
}

func testListEvents(t *testing.T, f *fixture) {
	var all []string
	byType := map[string][]string{}
	byTenant := map[string][]string{}
	both := map[string][]string{}
	types := []string{"invoice.paid", "invoice.created", "customer.created"}
	tenants := []string{"", "acme", "globex"}
	for i := range 25 {
		ev := event(types[i%3], tenants[i%2*(1+i%4/2)], at(time.Duration(i)*time.Second))
		f.publish(hookline.PublishOptions{}, ev)
		all = append(all, ev.ID)
		byType[ev.Type] = append(byType[ev.Type], ev.ID)
		byTenant[ev.Tenant] = append(byTenant[ev.Tenant], ev.ID)
		both[ev.Type+"/"+ev.Tenant] = append(both[ev.Type+"/"+ev.Tenant], ev.ID)
	}
	cases := []struct {
		typ, tenant string
		want        []string
	}{
		{"", "", all},
		{"invoice.paid", "", byType["invoice.paid"]},
		{"customer.created", "", byType["customer.created"]},
		{"", "acme", byTenant["acme"]},
		{"", "globex", byTenant["globex"]},
		{"invoice.paid", "acme", both["invoice.paid/acme"]},
		{"invoice", "", nil}, // types match exactly, not as prefixes
		{"nothing.here", "", nil},
	}
	for _, c := range cases {
		for _, limit := range []int{0, 4, 100} {
			t.Run(fmt.Sprintf("type=%q/tenant=%q/limit=%d", c.typ, c.tenant, limit), func(t *testing.T) {
				got := walk(t, limit, func(p hookline.Page) ([]string, bool, error) {
					es, more, err := f.s.ListEvents(f.ctx, hookline.EventFilter{Page: p, Type: c.typ, Tenant: c.tenant})
					ids := make([]string, len(es))
					for i, e := range es {
						if c.typ != "" && e.Type != c.typ || c.tenant != "" && e.Tenant != c.tenant {
							t.Fatalf("event %s (%s, %q) does not match the filter", e.ID, e.Type, e.Tenant)
						}
						ids[i] = e.ID
					}
					return ids, more, err
				})
				if want := reversed(c.want); !slices.Equal(got, want) {
					t.Fatalf("got %v, want %v", got, want)
				}
			})
		}
	}
}

func testFanOut(t *testing.T, f *fixture) {
	all := f.endpoint([]string{"*"})
	invoices := f.endpoint([]string{"invoice.*"})
	paid := f.endpoint([]string{"invoice.paid"})
	multi := f.endpoint([]string{"customer.created", "invoice.paid"})
	acme := f.endpoint([]string{"*"}, tenant("acme"))
	acmeInvoices := f.endpoint([]string{"invoice.*"}, tenant("acme"))
	f.endpoint([]string{"*"}, disabled)
	f.endpoint([]string{"invoice.*"}, disabled, tenant("acme"))
	f.endpoint(nil) // subscribed to nothing

	cases := []struct {
		typ, tenant string
		want        []*hookline.Endpoint
	}{
		{"invoice.paid", "", []*hookline.Endpoint{all, invoices, paid, multi}},
		{"invoice.paid", "acme", []*hookline.Endpoint{all, invoices, paid, multi, acme, acmeInvoices}},
		{"invoice.paid", "globex", []*hookline.Endpoint{all, invoices, paid, multi}},
		{"invoice.payment.failed", "acme", []*hookline.Endpoint{all, invoices, acme, acmeInvoices}},
		{"invoices.created", "", []*hookline.Endpoint{all}}, // "invoice.*" is not a bare prefix
		{"invoice", "", []*hookline.Endpoint{all}},
		{"customer.created", "acme", []*hookline.Endpoint{all, multi, acme}},
		{"other.thing", "", []*hookline.Endpoint{all}},
	}
	for _, c := range cases {
		t.Run(c.typ+"/"+c.tenant, func(t *testing.T) {
			f := f.with(t)
			created := at(3 * time.Second)
			ev := event(c.typ, c.tenant, created)
			p := f.publish(hookline.PublishOptions{Now: at(5 * time.Second)}, ev)[0]
			if p.Duplicate || len(p.Tasks) != 0 {
				t.Fatalf("published %+v, want a new event without tasks", p)
			}
			if p.Deliveries != len(c.want) {
				t.Fatalf("Deliveries = %d, want %d", p.Deliveries, len(c.want))
			}
			ds := f.deliveries(ev.ID)
			var want []string
			for _, e := range c.want {
				want = append(want, e.ID)
			}
			slices.Sort(want)
			if got := endpointIDsOf(ds); !slices.Equal(got, want) {
				t.Fatalf("deliveries to %v, want %v", got, want)
			}
			for _, d := range ds {
				if d.EventID != ev.ID || d.Status != hookline.DeliveryPending || d.Attempts != 0 || d.ID == "" {
					t.Fatalf("new delivery %+v", d)
				}
				sameTime(t, "NextAttemptAt", d.NextAttemptAt, created)
			}
		})
	}
	// An empty batch is not an error.
	if _, err := f.s.PublishEvents(f.ctx, nil, hookline.PublishOptions{Now: base}); err != nil {
		t.Fatalf("PublishEvents(nil): %v", err)
	}
}

func testIdempotency(t *testing.T, f *fixture) {
	f.endpoint([]string{"*"})
	window := 24 * time.Hour
	withKey := func(key string, created time.Time) *hookline.Event {
		ev := event("invoice.paid", "", created)
		ev.IdempotencyKey = key
		return ev
	}
	opts := func(now time.Time) hookline.PublishOptions {
		return hookline.PublishOptions{Now: now, IdempotencyWindow: window, LeaseOwner: "node", LeaseExpires: now.Add(time.Minute)}
	}
	stored := func(id string) bool {
		_, err := f.s.Event(f.ctx, id)
		if err != nil && hookline.ErrorCode(err) != hookline.ENOTFOUND {
			t.Fatalf("Event: %v", err)
		}
		return err == nil
	}

	first := withKey("k", base)
	if p := f.publish(opts(base), first)[0]; p.Duplicate || len(p.Tasks) != 1 {
		t.Fatalf("first publish: %+v", p)
	}

	again := withKey("k", at(time.Hour))
	p := f.publish(opts(at(time.Hour)), again)[0]
	if !p.Duplicate || len(p.Tasks) != 0 {
		t.Fatalf("publish within the window: Duplicate=%v tasks=%d, want a duplicate without tasks", p.Duplicate, len(p.Tasks))
	}
	sameEvent(t, p.Event, first)
	if stored(again.ID) {
		t.Fatal("the duplicate was stored")
	}
	if n := len(f.deliveries(first.ID)); n != 1 {
		t.Fatalf("the original has %d deliveries after the duplicate, want 1", n)
	}

	// Another key, and no key at all, are new events.
	other := withKey("other", at(time.Hour))
	none := withKey("", at(time.Hour))
	none2 := withKey("", at(time.Hour))
	for _, p := range f.publish(opts(at(time.Hour)), other, none, none2) {
		if p.Duplicate {
			t.Fatalf("event %s was taken as a duplicate", p.Event.ID)
		}
	}

	// Twice in one batch: the second is a duplicate of the first.
	b1, b2 := withKey("batch", at(2*time.Hour)), withKey("batch", at(2*time.Hour))
	ps := f.publish(opts(at(2*time.Hour)), b1, b2)
	if ps[0].Duplicate || !ps[1].Duplicate || ps[1].Event.ID != b1.ID || len(ps[1].Tasks) != 0 {
		t.Fatalf("same key twice in a batch: %+v", ps)
	}

	// After the window the key is free again and makes a new event, which
	// later duplicates then refer to.
	late := withKey("k", at(window+time.Hour))
	if p := f.publish(opts(at(window+time.Hour)), late)[0]; p.Duplicate || p.Event.ID != late.ID {
		t.Fatalf("publish after the window: %+v, want a new event", p)
	}
	if !stored(late.ID) || len(f.deliveries(late.ID)) != 1 {
		t.Fatal("the event published after the window was not stored with its delivery")
	}
	later := withKey("k", at(window+2*time.Hour))
	if p := f.publish(opts(at(window+2*time.Hour)), later)[0]; !p.Duplicate || p.Event.ID != late.ID {
		t.Fatalf("publish within the new window: %+v, want a duplicate of %s", p, late.ID)
	}
}

func testLeasedAtPublish(t *testing.T, f *fixture) {
	e1 := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.Metadata = map[string]string{"k": "v"}
		e.PreviousSecret = "whsec_prev"
		e.PreviousSecretExpires = at(time.Hour)
	})
	e2 := f.endpoint([]string{"invoice.*"})
	f.endpoint([]string{"customer.*"})
	exp := at(30 * time.Second)
	ev := event("invoice.paid", "", base)
	p := f.publish(hookline.PublishOptions{Now: base, LeaseOwner: "node-1", LeaseExpires: exp}, ev)[0]
	if p.Deliveries != 2 || len(p.Tasks) != 2 {
		t.Fatalf("Deliveries=%d tasks=%d, want 2 and 2", p.Deliveries, len(p.Tasks))
	}
	ds := f.deliveries(ev.ID)
	byEndpoint := map[string]*hookline.Endpoint{e1.ID: e1, e2.ID: e2}
	seen := map[string]bool{}
	for _, task := range p.Tasks {
		if task.Attempt != 1 {
			t.Fatalf("task attempt %d, want 1", task.Attempt)
		}
		sameTime(t, "LeaseExpires", task.LeaseExpires, exp)
		sameEvent(t, task.Event, ev)
		want := byEndpoint[task.Endpoint.ID]
		if want == nil {
			t.Fatalf("task for unexpected endpoint %s", task.Endpoint.ID)
		}
		sameEndpoint(t, task.Endpoint, want)
		if !slices.ContainsFunc(ds, func(d *hookline.Delivery) bool {
			return d.ID == task.DeliveryID && d.EndpointID == task.Endpoint.ID
		}) {
			t.Fatalf("task %s is not one of the event's deliveries", task.DeliveryID)
		}
		seen[task.Endpoint.ID] = true
	}
	if len(seen) != 2 {
		t.Fatalf("tasks cover endpoints %v", sortedKeys(seen))
	}
	// The deliveries are leased: nobody else can claim them until the lease lapses.
	if got := f.claim("node-2", at(time.Second), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed %d leased deliveries", len(got))
	}
	got := f.claim("node-2", at(31*time.Second), time.Minute, 10)
	if !slices.Equal(slices.Sorted(slices.Values(taskIDs(got))), slices.Sorted(slices.Values(taskIDs(p.Tasks)))) {
		t.Fatalf("after the lease lapsed claimed %v, want %v", taskIDs(got), taskIDs(p.Tasks))
	}
	for _, task := range got {
		if task.Attempt != 1 {
			t.Fatalf("reclaimed task attempt %d, want 1", task.Attempt)
		}
	}
}

func testClaimDueOnly(t *testing.T, f *fixture) {
	f.endpoint([]string{"*"})
	e0 := f.publishAt("a.b", base)
	e10 := f.publishAt("a.b", at(10*time.Second))
	f.publishAt("a.b", at(20*time.Second))
	if got := f.claim("w", at(-time.Second), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed %d tasks before anything was due", len(got))
	}
	got := f.claim("w", at(10*time.Second), time.Minute, 10)
	want := []string{f.delivery(e0.ID).ID, f.delivery(e10.ID).ID}
	if !slices.Equal(taskIDs(got), want) {
		t.Fatalf("claimed %v, want %v", taskIDs(got), want)
	}
}

// testClaimFair pins the fairness contract of ClaimTasks
// (hookline.ClaimRequest): no endpoint beyond its room under its cap
// (its own max_concurrency, or the request's), counting what the owner
// holds and other owners' live leases; endpoints round robin, oldest due
// first within each, so that one endpoint's backlog, however old, does not
// fill a claim.
func testClaimFair(t *testing.T, f *fixture) {
	busy := f.endpoint([]string{"busy.*"})
	quiet := f.endpoint([]string{"quiet.*"})
	capped := f.endpoint([]string{"capped.*"}, func(e *hookline.Endpoint) { e.MaxConcurrency = 2 })
	due := map[string]time.Time{}   // delivery id → due
	of := map[string]string{}       // delivery id → endpoint id
	oldest := map[string][]string{} // endpoint id → delivery ids, oldest first
	add := func(typ string, ep *hookline.Endpoint, d time.Duration) {
		ev := f.publishAt(typ, at(d))
		id := f.delivery(ev.ID).ID
		due[id], of[id] = at(d), ep.ID
	}
	// busy's backlog is older than anything of the others, and published
	// out of order: within an endpoint claims go by due time.
	for _, i := range []int{29, 3, 17, 0, 8, 1, 22, 4, 2, 11, 5, 26, 6, 14, 7, 9, 10, 12, 13, 15, 16, 18, 19, 20, 21, 23, 24, 25, 27, 28} {
		add("busy.x", busy, time.Duration(i)*time.Second)
	}
	for i := range 3 {
		add("quiet.x", quiet, time.Minute+time.Duration(i)*time.Second)
		add("capped.x", capped, time.Minute+time.Duration(i)*time.Second+500*time.Millisecond)
	}
	for id := range due {
		oldest[of[id]] = append(oldest[of[id]], id)
	}
	for _, ids := range oldest {
		slices.SortFunc(ids, func(a, b string) int { return due[a].Compare(due[b]) })
	}
	now := at(time.Hour)
	req := hookline.ClaimRequest{Owner: "w", Now: now, Lease: time.Minute, MaxConcurrency: 5}
	claimed := map[string]bool{}
	take := func(r hookline.ClaimRequest) []string {
		t.Helper()
		var ids []string
		for _, tk := range f.claimReq(r) {
			if claimed[tk.DeliveryID] {
				t.Fatalf("delivery %s claimed twice", tk.DeliveryID)
			}
			if tk.Endpoint.ID != of[tk.DeliveryID] {
				t.Fatalf("task %s carries endpoint %s, want %s", tk.DeliveryID, tk.Endpoint.ID, of[tk.DeliveryID])
			}
			claimed[tk.DeliveryID] = true
			ids = append(ids, tk.DeliveryID)
		}
		slices.Sort(ids)
		return ids
	}
	want := func(lists ...[]string) []string {
		out := slices.Concat(lists...)
		slices.Sort(out)
		return out
	}

	// A claim of 4 takes the first of each endpoint, then busy's second:
	// round robin, not the 4 oldest (which are all busy's).
	r := req
	r.Limit = 4
	if got, w := take(r), want(oldest[busy.ID][:2], oldest[quiet.ID][:1], oldest[capped.ID][:1]); !slices.Equal(got, w) {
		t.Fatalf("claim of 4 took %v, want %v", got, w)
	}

	// With what the owner holds counted, a large claim fills each
	// endpoint up to its cap: busy to the request's 5, capped to its own 2;
	// quiet has only 3 deliveries.
	r.Limit, r.Held = 100, map[string]int{busy.ID: 2, quiet.ID: 1, capped.ID: 1}
	if got, w := take(r), want(oldest[busy.ID][2:5], oldest[quiet.ID][1:3], oldest[capped.ID][1:2]); !slices.Equal(got, w) {
		t.Fatalf("claim up to the caps took %v, want %v", got, w)
	}

	// Another owner finds every cap taken by w's live leases.
	r = req
	r.Owner, r.Limit = "v", 100
	if got := take(r); len(got) != 0 {
		t.Fatalf("another owner claimed %v while w's leases fill every cap", got)
	}

	// Once w's leases lapse they count no more, and their deliveries are
	// due again, from when the lease lapsed: v gets busy's five oldest never
	// claimed, quiet's three, and two of capped's, its third among them.
	clear(claimed)
	r.Now = now.Add(time.Minute + time.Second)
	got := take(r)
	perEndpoint := map[string][]string{}
	for _, id := range got {
		perEndpoint[of[id]] = append(perEndpoint[of[id]], id)
	}
	if w := want(oldest[busy.ID][5:10]); !slices.Equal(perEndpoint[busy.ID], w) {
		t.Fatalf("after the leases lapsed took %v of busy, want %v", perEndpoint[busy.ID], w)
	}
	if w := want(oldest[quiet.ID]); !slices.Equal(perEndpoint[quiet.ID], w) {
		t.Fatalf("after the leases lapsed took %v of quiet, want %v", perEndpoint[quiet.ID], w)
	}
	if c := perEndpoint[capped.ID]; len(c) != 2 || !slices.Contains(c, oldest[capped.ID][2]) {
		t.Fatalf("after the leases lapsed took %v of capped, want 2 with %s", c, oldest[capped.ID][2])
	}
}

// testClaimCapAcrossOwners: the cap holds across owners from the moment of
// publish, before anything else reads the store (a store may keep fresh
// deliveries apart, as the SQLite journal does), and a completion frees
// its slot.
func testClaimCapAcrossOwners(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) { e.MaxConcurrency = 2 })
	for i := range 5 {
		f.publish(hookline.PublishOptions{}, event("a.b", "", at(time.Duration(i)*time.Millisecond)))
	}
	req := func(owner string, held int) hookline.ClaimRequest {
		return hookline.ClaimRequest{Owner: owner, Now: at(time.Second), Lease: time.Minute, Limit: 10,
			MaxConcurrency: 100, Held: map[string]int{ep.ID: held}}
	}
	a := f.claimReq(req("a", 0))
	if len(a) != 2 {
		t.Fatalf("a claimed %d, want the endpoint's max_concurrency of 2", len(a))
	}
	if got := f.claimReq(req("b", 0)); len(got) != 0 {
		t.Fatalf("b claimed %d while a holds the endpoint's 2", len(got))
	}
	if got := f.claimReq(req("a", 2)); len(got) != 0 {
		t.Fatalf("a claimed %d beyond what it holds", len(got))
	}
	f.complete("a", succeeded(a[0], at(2*time.Second)))
	b := f.claimReq(req("b", 0))
	if len(b) != 1 || b[0].DeliveryID == a[0].DeliveryID || b[0].DeliveryID == a[1].DeliveryID {
		t.Fatalf("after a completed one, b claimed %v, want one other delivery", taskIDs(b))
	}
}

// testClaimLeaseCoversTimeout: an endpoint whose attempts may take longer
// than the default timeout is leased for longer by twice the difference.
func testClaimLeaseCoversTimeout(t *testing.T, f *fixture) {
	slow := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) { e.Timeout = 20 * time.Second })
	plain := f.endpoint([]string{"*"})
	f.publishAt("a.b", base)
	got := f.claimReq(hookline.ClaimRequest{Owner: "w", Now: at(time.Second), Lease: 40 * time.Second, Limit: 10, Timeout: 5 * time.Second})
	if len(got) != 2 {
		t.Fatalf("claimed %d, want 2", len(got))
	}
	for _, tk := range got {
		want := at(41 * time.Second)
		if tk.Endpoint.ID == slow.ID {
			want = at(71 * time.Second)
		} else if tk.Endpoint.ID != plain.ID {
			t.Fatalf("task of unknown endpoint %s", tk.Endpoint.ID)
		}
		sameTime(t, "LeaseExpires of "+tk.Endpoint.ID, tk.LeaseExpires, want)
	}
	// The lease is the store's too: before it lapses nobody else claims.
	if again := f.claim("v", at(70*time.Second), time.Minute, 10); len(again) != 1 || again[0].Endpoint.ID != plain.ID {
		t.Fatalf("at +70s claimed %v, want only the plain endpoint's delivery", taskIDs(again))
	}
}

func testClaimEnabledEndpointsOnly(t *testing.T, f *fixture) {
	on := f.endpoint([]string{"*"})
	off := f.endpoint([]string{"*"})
	ev := f.publishAt("a.b", base)
	off.Status = hookline.EndpointDisabled
	if err := f.s.UpdateEndpoint(f.ctx, off); err != nil {
		t.Fatal(err)
	}
	got := f.claim("w", at(time.Second), time.Minute, 10)
	if len(got) != 1 || got[0].Endpoint.ID != on.ID {
		t.Fatalf("claimed %v, want only the delivery to the enabled endpoint", taskIDs(got))
	}
	// Not claimed, the disabled endpoint's delivery still waits: the backlog
	// counts it, as the README and /metrics' help say.
	if b, err := f.s.Backlog(f.ctx); err != nil || b.Pending != 2 || !b.Oldest.Equal(base) {
		t.Fatalf("Backlog with an endpoint disabled = %+v, %v; want 2 pending since %v", b, err, base)
	}
	// Re-enabled, its waiting delivery is claimable again.
	off.Status = hookline.EndpointEnabled
	if err := f.s.UpdateEndpoint(f.ctx, off); err != nil {
		t.Fatal(err)
	}
	got = f.claim("w", at(time.Second), time.Minute, 10)
	if len(got) != 1 || got[0].Endpoint.ID != off.ID || got[0].Event.ID != ev.ID {
		t.Fatalf("after re-enabling claimed %v", taskIDs(got))
	}
}

func testClaimLeases(t *testing.T, f *fixture) {
	f.endpoint([]string{"*"})
	f.publishAt("a.b", base)
	first := f.claim("a", base, 30*time.Second, 10)
	if len(first) != 1 {
		t.Fatalf("claimed %d, want 1", len(first))
	}
	sameTime(t, "LeaseExpires", first[0].LeaseExpires, at(30*time.Second))
	for _, c := range []struct {
		owner string
		now   time.Duration
	}{{"a", 0}, {"b", 0}, {"b", 29 * time.Second}} {
		if got := f.claim(c.owner, at(c.now), 30*time.Second, 10); len(got) != 0 {
			t.Fatalf("%s claimed a leased delivery at +%v", c.owner, c.now)
		}
	}
	second := f.claim("b", at(31*time.Second), 30*time.Second, 10)
	if len(second) != 1 || second[0].DeliveryID != first[0].DeliveryID || second[0].Attempt != 1 {
		t.Fatalf("after the lease lapsed claimed %+v", second)
	}
	sameTime(t, "LeaseExpires", second[0].LeaseExpires, at(61*time.Second))
}

func testClaimTaskContents(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.Metadata = map[string]string{"k": "v"}
		e.Tenant = "acme"
		e.SignatureScheme = hookline.SchemeStripe
		e.PreviousSecret = "whsec_prev"
		e.PreviousSecretExpires = at(time.Hour)
	})
	ev := event("invoice.paid", "acme", base)
	ev.IdempotencyKey = "idem"
	f.publish(hookline.PublishOptions{IdempotencyWindow: time.Hour}, ev)
	tasks := f.claim("w", base, time.Minute, 1)
	if len(tasks) != 1 {
		t.Fatalf("claimed %d", len(tasks))
	}
	task := tasks[0]
	if task.Attempt != 1 || task.DeliveryID != f.delivery(ev.ID).ID {
		t.Fatalf("task %+v", task)
	}
	sameEvent(t, task.Event, ev)
	sameEndpoint(t, task.Endpoint, ep)

	// After a retry the next claim is attempt 2.
	f.complete("w", retry(task, at(time.Second), at(10*time.Second)))
	tasks = f.claim("w", at(10*time.Second), time.Minute, 1)
	if len(tasks) != 1 || tasks[0].Attempt != 2 {
		t.Fatalf("after one retry claimed %+v, want attempt 2", tasks)
	}
	// The endpoint in the task reflects its current state.
	sameTime(t, "task endpoint FailingSince", tasks[0].Endpoint.FailingSince, at(time.Second))
}

func testClaimConcurrent(t *testing.T, f *fixture) {
	f.endpoint([]string{"*"})
	f.endpoint([]string{"*"})
	const events = 120 // 240 deliveries
	batch := make([]*hookline.Event, 0, events)
	for i := range events {
		batch = append(batch, event("a.b", "", at(time.Duration(i)*time.Millisecond)))
	}
	f.publish(hookline.PublishOptions{}, batch...)

	const workers = 8
	var (
		mu   sync.Mutex
		seen = map[string]string{}
		dups []string
		wg   sync.WaitGroup
	)
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("worker-%d", w)
			for {
				tasks, err := f.s.ClaimTasks(f.ctx, hookline.ClaimRequest{Owner: owner, Now: at(time.Minute), Lease: time.Minute, Limit: 7, MaxConcurrency: hookline.MaxMaxConcurrency})
				if err != nil {
					errs <- err
					return
				}
				if len(tasks) == 0 {
					return
				}
				mu.Lock()
				for _, task := range tasks {
					if prev, ok := seen[task.DeliveryID]; ok {
						dups = append(dups, fmt.Sprintf("%s by %s and %s", task.DeliveryID, prev, owner))
					}
					seen[task.DeliveryID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("ClaimTasks: %v", err)
	}
	if len(dups) > 0 {
		t.Fatalf("deliveries claimed twice: %v", dups)
	}
	if len(seen) != 2*events {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(seen), 2*events)
	}
}

func testCompleteOutcomes(t *testing.T, f *fixture) {
	f.endpoint([]string{"*"})
	evOK := f.publishAt("a.b", base)
	evRetry := f.publishAt("a.b", base)
	evFail := f.publishAt("a.b", base)
	tasks := f.claim("w", base, time.Minute, 10)
	if len(tasks) != 3 {
		t.Fatalf("claimed %d", len(tasks))
	}
	byEvent := map[string]*hookline.Task{}
	for _, task := range tasks {
		byEvent[task.Event.ID] = task
	}
	next := at(5 * time.Minute)
	// One call, one transaction, three outcomes.
	f.complete("w",
		succeeded(byEvent[evOK.ID], at(time.Second)),
		retry(byEvent[evRetry.ID], at(time.Second), next),
		failed(byEvent[evFail.ID], at(time.Second)),
	)
	for _, c := range []struct {
		ev     *hookline.Event
		status string
	}{{evOK, hookline.DeliverySucceeded}, {evRetry, hookline.DeliveryPending}, {evFail, hookline.DeliveryFailed}} {
		d := f.delivery(c.ev.ID)
		if d.Status != c.status || d.Attempts != 1 {
			t.Fatalf("delivery after completion: status %s attempts %d, want %s and 1", d.Status, d.Attempts, c.status)
		}
		if c.status == hookline.DeliveryPending {
			sameTime(t, "NextAttemptAt", d.NextAttemptAt, next)
		}
	}
	// Only the retry comes back, and only once it is due.
	if got := f.claim("w", next.Add(-time.Millisecond), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed %d before the retry was due", len(got))
	}
	got := f.claim("w", next, time.Minute, 10)
	if len(got) != 1 || got[0].Event.ID != evRetry.ID || got[0].Attempt != 2 {
		t.Fatalf("claimed %+v, want the retry as attempt 2", got)
	}
	f.complete("w", succeeded(got[0], next))
	if d := f.delivery(evRetry.ID); d.Status != hookline.DeliverySucceeded || d.Attempts != 2 {
		t.Fatalf("after the second attempt: %+v", d)
	}
}

func testCompleteRecordsAttempt(t *testing.T, f *fixture) {
	f.endpoint([]string{"*"})
	f.publishAt("a.b", base)
	task := f.claim("w", base, time.Minute, 1)[0]
	c := hookline.Completion{
		Attempt: hookline.Attempt{
			ID:             hookline.NewID("atm"),
			DeliveryID:     task.DeliveryID,
			EventID:        task.Event.ID,
			EndpointID:     task.Endpoint.ID,
			Attempt:        task.Attempt,
			Created:        at(1234 * time.Millisecond),
			URL:            task.Endpoint.URL,
			ResponseStatus: 503,
			DurationMS:     4321,
			Error:          "HTTP 503",
			ResponseBody:   "{\"busy\": true}\n ü",
			NextRetry:      at(time.Hour),
		},
		Status: hookline.DeliveryPending,
	}
	f.complete("w", c)
	as := f.attempts(hookline.AttemptFilter{EventID: task.Event.ID})
	if len(as) != 1 {
		t.Fatalf("%d attempts recorded, want 1", len(as))
	}
	if got, want := normAttempt(as[0]), normAttempt(&c.Attempt); got != want {
		t.Fatalf("attempt differs:\n got %+v\nwant %+v", got, want)
	}

	// An attempt without an answer keeps the kind of its error.
	f.publishAt("a.c", base)
	task = f.claim("w", at(2*time.Second), time.Minute, 1)[0]
	refused := c
	refused.Attempt.ID, refused.Attempt.DeliveryID, refused.Attempt.EventID = hookline.NewID("atm"), task.DeliveryID, task.Event.ID
	refused.Attempt.ResponseStatus, refused.Attempt.ResponseBody = 0, ""
	refused.Attempt.Error = "dial tcp 127.0.0.1:1: connect: connection refused"
	refused.Attempt.ErrorKind = hookline.AttemptErrorRefused
	f.complete("w", refused)
	as = f.attempts(hookline.AttemptFilter{EventID: task.Event.ID})
	if len(as) != 1 || normAttempt(as[0]) != normAttempt(&refused.Attempt) {
		t.Fatalf("refused attempt recorded as %+v, want %+v", as, refused.Attempt)
	}
}

func testCompleteWithoutLease(t *testing.T, f *fixture) {
	f.endpoint([]string{"*"})
	ev := f.publishAt("a.b", base)
	a := f.claim("a", base, 30*time.Second, 1)[0]
	b := f.claim("b", at(31*time.Second), 30*time.Second, 1)[0]
	if a.DeliveryID != b.DeliveryID {
		t.Fatal("b did not reclaim a's lapsed delivery")
	}
	// a's late answer is recorded but does not touch the delivery b now holds.
	f.complete("a", succeeded(a, at(32*time.Second)))
	if n := len(f.attempts(hookline.AttemptFilter{EventID: ev.ID})); n != 1 {
		t.Fatalf("%d attempts recorded, want 1", n)
	}
	if d := f.delivery(ev.ID); d.Status != hookline.DeliveryPending || d.Attempts != 0 {
		t.Fatalf("delivery changed by a completion without the lease: %+v", d)
	}
	// b's lease still holds: nobody reclaims it before it lapses.
	if got := f.claim("c", at(40*time.Second), 30*time.Second, 1); len(got) != 0 {
		t.Fatal("a's completion cleared b's lease")
	}
	// An owner that never claimed it cannot complete it either.
	f.complete("stranger", failed(b, at(41*time.Second)))
	if d := f.delivery(ev.ID); d.Status != hookline.DeliveryPending {
		t.Fatalf("a stranger's completion changed the delivery: %+v", d)
	}
	f.complete("b", failed(b, at(42*time.Second)))
	if d := f.delivery(ev.ID); d.Status != hookline.DeliveryFailed || d.Attempts != 1 {
		t.Fatalf("the owner's completion: %+v, want failed after 1 attempt", d)
	}
	if n := len(f.attempts(hookline.AttemptFilter{EventID: ev.ID})); n != 3 {
		t.Fatalf("%d attempts recorded, want 3", n)
	}
}

func testCompleteEndpointHealth(t *testing.T, f *fixture) {
	ep := f.endpoint([]string{"*"})
	for range 4 {
		f.publishAt("a.b", base)
	}
	tasks := f.claim("w", base, time.Hour, 4)
	if len(tasks) != 4 {
		t.Fatalf("claimed %d", len(tasks))
	}
	steps := []struct {
		c       hookline.Completion
		failing time.Time
	}{
		{retry(tasks[0], at(time.Second), at(time.Hour)), at(time.Second)},   // the first failure sets it
		{retry(tasks[1], at(2*time.Second), at(time.Hour)), at(time.Second)}, // later failures keep it
		{succeeded(tasks[2], at(3*time.Second)), time.Time{}},                // a success clears it
		{failed(tasks[3], at(4*time.Second)), at(4 * time.Second)},           // and the next failure sets it anew
	}
	for i, s := range steps {
		f.complete("w", s.c)
		got := f.getEndpoint(ep.ID)
		sameTime(t, fmt.Sprintf("step %d FailingSince", i), got.FailingSince, s.failing)
		if got.Status != hookline.EndpointEnabled {
			t.Fatalf("step %d disabled the endpoint", i)
		}
	}

	// 410 Gone: the completion disables the endpoint with the reason.
	f.publishAt("a.b", base)
	task := f.claim("w", base, time.Hour, 1)[0]
	c := failed(task, at(5*time.Second))
	c.Attempt.ResponseStatus = 410
	c.DisableEndpoint = "endpoint answered 410 Gone"
	f.complete("w", c)
	got := f.getEndpoint(ep.ID)
	if got.Status != hookline.EndpointDisabled || got.DisabledReason != c.DisableEndpoint {
		t.Fatalf("after 410: status %q reason %q", got.Status, got.DisabledReason)
	}
	// A disabled endpoint receives nothing new.
	if p := f.publish(hookline.PublishOptions{}, event("a.b", "", base))[0]; p.Deliveries != 0 {
		t.Fatalf("a disabled endpoint got %d deliveries", p.Deliveries)
	}
}

func testReleaseTasks(t *testing.T, f *fixture) {
	f.endpoint([]string{"*"})
	for range 3 {
		f.publishAt("a.b", base)
	}
	tasks := f.claim("a", base, time.Hour, 3)
	if len(tasks) != 3 {
		t.Fatalf("claimed %d", len(tasks))
	}
	release := taskIDs(tasks[:2])
	// Not the owner: nothing happens.
	if err := f.s.ReleaseTasks(f.ctx, "b", release, base); err != nil {
		t.Fatal(err)
	}
	if got := f.claim("b", at(time.Second), time.Hour, 10); len(got) != 0 {
		t.Fatalf("another owner's release freed %d deliveries", len(got))
	}
	if err := f.s.ReleaseTasks(f.ctx, "a", release, at(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := f.claim("b", at(9*time.Second), time.Hour, 10); len(got) != 0 {
		t.Fatalf("claimed %d released deliveries before they were due", len(got))
	}
	got := f.claim("b", at(10*time.Second), time.Hour, 10)
	if !slices.Equal(slices.Sorted(slices.Values(taskIDs(got))), slices.Sorted(slices.Values(release))) {
		t.Fatalf("claimed %v, want the released %v", taskIDs(got), release)
	}
	for _, task := range got {
		if task.Attempt != 1 {
			t.Fatalf("a release counted as an attempt: attempt %d", task.Attempt)
		}
	}
	if n := len(f.attempts(hookline.AttemptFilter{})); n != 0 {
		t.Fatalf("release recorded %d attempts", n)
	}
	if err := f.s.ReleaseTasks(f.ctx, "a", nil, base); err != nil {
		t.Fatalf("ReleaseTasks with no ids: %v", err)
	}
}

func testReleaseOwner(t *testing.T, f *fixture) {
	f.endpoint([]string{"*"})
	for range 3 {
		f.publishAt("a.b", base)
	}
	a := f.claim("a", base, time.Hour, 2)
	b := f.claim("b", base, time.Hour, 1)
	if len(a) != 2 || len(b) != 1 {
		t.Fatalf("claimed %d and %d", len(a), len(b))
	}
	if err := f.s.ReleaseOwner(f.ctx, "a"); err != nil {
		t.Fatal(err)
	}
	got := f.claim("c", at(time.Second), time.Hour, 10)
	if !slices.Equal(slices.Sorted(slices.Values(taskIDs(got))), slices.Sorted(slices.Values(taskIDs(a)))) {
		t.Fatalf("after releasing a claimed %v, want a's %v", taskIDs(got), taskIDs(a))
	}
	if err := f.s.ReleaseOwner(f.ctx, "nobody"); err != nil {
		t.Fatalf("ReleaseOwner of an owner with nothing: %v", err)
	}
}

func testResend(t *testing.T, f *fixture) {
	sub := f.endpoint([]string{"invoice.*"})
	other := f.endpoint([]string{"customer.*"})
	ev := f.publishAt("invoice.paid", base)
	task := f.claim("w", base, time.Minute, 1)[0]
	f.complete("w", failed(task, at(time.Second)))

	t.Run("existing delivery", func(t *testing.T) {
		f := f.with(t)
		now := at(time.Hour)
		ds, err := f.s.Resend(f.ctx, ev.ID, sub.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].ID != task.DeliveryID || ds[0].Status != hookline.DeliveryPending || ds[0].Attempts != 1 {
			t.Fatalf("Resend returned %+v, want the failed delivery pending with its attempt count", ds)
		}
		sameTime(t, "NextAttemptAt", ds[0].NextAttemptAt, now)
		if got := f.claim("w", now.Add(-time.Second), time.Minute, 10); len(got) != 0 {
			t.Fatal("claimed the resent delivery before now")
		}
		got := f.claim("w", now, time.Minute, 10)
		if len(got) != 1 || got[0].DeliveryID != task.DeliveryID || got[0].Attempt != 2 {
			t.Fatalf("claimed %+v, want the resent delivery as attempt 2", got)
		}
		f.complete("w", succeeded(got[0], now))
	})

	t.Run("missing delivery", func(t *testing.T) {
		f := f.with(t)
		now := at(2 * time.Hour)
		ds, err := f.s.Resend(f.ctx, ev.ID, other.ID, now) // not subscribed, but named
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].EndpointID != other.ID || ds[0].EventID != ev.ID || ds[0].Status != hookline.DeliveryPending || ds[0].Attempts != 0 {
			t.Fatalf("Resend returned %+v, want a new pending delivery", ds)
		}
		sameTime(t, "NextAttemptAt", ds[0].NextAttemptAt, now)
		if n := len(f.deliveries(ev.ID)); n != 2 {
			t.Fatalf("event has %d deliveries, want 2", n)
		}
		got := f.claim("w", now, time.Minute, 10)
		if len(got) != 1 || got[0].Endpoint.ID != other.ID || got[0].Attempt != 1 {
			t.Fatalf("claimed %+v", got)
		}
		f.complete("w", succeeded(got[0], now))
	})

	t.Run("every subscribed endpoint", func(t *testing.T) {
		f := f.with(t)
		late := f.endpoint([]string{"invoice.paid"}) // subscribed after publish
		f.endpoint([]string{"invoice.*"}, tenant("someone-else"))
		f.endpoint([]string{"*"}, disabled)
		now := at(3 * time.Hour)
		ds, err := f.s.Resend(f.ctx, ev.ID, "", now)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{sub.ID, late.ID}
		slices.Sort(want)
		if got := endpointIDsOf(ds); !slices.Equal(got, want) {
			t.Fatalf("resent to %v, want %v", got, want)
		}
		for _, d := range ds {
			if d.Status != hookline.DeliveryPending {
				t.Fatalf("resent delivery %+v", d)
			}
			sameTime(t, "NextAttemptAt", d.NextAttemptAt, now)
		}
		if n := len(f.deliveries(ev.ID)); n != 3 {
			t.Fatalf("event has %d deliveries, want 3", n)
		}
	})

	t.Run("not found", func(t *testing.T) {
		f := f.with(t)
		_, err := f.s.Resend(f.ctx, "evt_missing", sub.ID, base)
		wantCode(t, err, hookline.ENOTFOUND)
		_, err = f.s.Resend(f.ctx, "evt_missing", "", base)
		wantCode(t, err, hookline.ENOTFOUND)
		_, err = f.s.Resend(f.ctx, ev.ID, "ep_missing", base)
		wantCode(t, err, hookline.ENOTFOUND)
	})
}

func testDeleteEndpoint(t *testing.T, f *fixture) {
	doomed := f.endpoint([]string{"*"})
	kept := f.endpoint([]string{"*"})
	evDone := f.publishAt("a.b", base)
	evRetry := f.publishAt("a.b", base)
	evWaiting := f.publishAt("a.b", at(time.Hour))
	for _, task := range f.claim("w", base, time.Minute, 10) {
		switch {
		case task.Event.ID == evDone.ID:
			f.complete("w", succeeded(task, at(time.Second)))
		case task.Event.ID == evRetry.ID:
			f.complete("w", retry(task, at(time.Second), at(time.Minute)))
		}
	}
	if err := f.s.DeleteEndpoint(f.ctx, doomed.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ev     *hookline.Event
		status string
	}{{evDone, hookline.DeliverySucceeded}, {evRetry, hookline.DeliveryCanceled}, {evWaiting, hookline.DeliveryCanceled}} {
		for _, d := range f.deliveries(c.ev.ID) {
			want := c.status
			if d.EndpointID == kept.ID {
				want = map[string]string{evDone.ID: hookline.DeliverySucceeded, evRetry.ID: hookline.DeliveryPending, evWaiting.ID: hookline.DeliveryPending}[c.ev.ID]
			}
			if d.Status != want {
				t.Fatalf("delivery to %s of %s: %s, want %s", d.EndpointID, c.ev.ID, d.Status, want)
			}
		}
	}
	if n := len(f.attempts(hookline.AttemptFilter{EndpointID: doomed.ID})); n != 2 {
		t.Fatalf("the deleted endpoint has %d attempts on record, want 2", n)
	}
	for _, task := range f.claim("w", at(2*time.Hour), time.Minute, 10) {
		if task.Endpoint.ID == doomed.ID {
			t.Fatal("claimed a delivery of a deleted endpoint")
		}
	}
	if p := f.publish(hookline.PublishOptions{}, event("a.b", "", base))[0]; p.Deliveries != 1 {
		t.Fatalf("publish after delete fanned out to %d, want 1", p.Deliveries)
	}
}

func testDisableFailingEndpoints(t *testing.T, f *fixture) {
	failing := func(since time.Time) func(*hookline.Endpoint) {
		return func(e *hookline.Endpoint) { e.FailingSince = since }
	}
	old := f.endpoint([]string{"*"}, failing(base))
	old2 := f.endpoint([]string{"*"}, failing(at(30*time.Minute)))
	recent := f.endpoint([]string{"*"}, failing(at(2*time.Hour)))
	healthy := f.endpoint([]string{"*"})
	off := f.endpoint([]string{"*"}, failing(base), disabled)

	ids, err := f.s.DisableFailingEndpoints(f.ctx, at(time.Hour), "failing for 5 days")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{old.ID, old2.ID}
	slices.Sort(want)
	slices.Sort(ids)
	if !slices.Equal(ids, want) {
		t.Fatalf("disabled %v, want %v", ids, want)
	}
	for _, c := range []struct {
		e      *hookline.Endpoint
		status string
		reason string
	}{
		{old, hookline.EndpointDisabled, "failing for 5 days"},
		{old2, hookline.EndpointDisabled, "failing for 5 days"},
		{recent, hookline.EndpointEnabled, ""},
		{healthy, hookline.EndpointEnabled, ""},
		{off, hookline.EndpointDisabled, "manual"},
	} {
		got := f.getEndpoint(c.e.ID)
		if got.Status != c.status || got.DisabledReason != c.reason {
			t.Fatalf("endpoint %s: status %q reason %q, want %q %q", c.e.ID, got.Status, got.DisabledReason, c.status, c.reason)
		}
	}
	ids, err = f.s.DisableFailingEndpoints(f.ctx, at(time.Hour), "again")
	if err != nil || len(ids) != 0 {
		t.Fatalf("second run disabled %v, %v; want nothing", ids, err)
	}
}

func testListAttempts(t *testing.T, f *fixture) {
	e1 := f.endpoint([]string{"*"})
	e2 := f.endpoint([]string{"*"})
	ev1 := f.publishAt("a.b", base)
	ev2 := f.publishAt("a.b", base)
	key := func(ev, ep string) string { return ev + "/" + ep }
	made := map[string][]string{}
	var all []string
	// Three rounds of attempts for all four deliveries, each round a retry.
	for round := range 3 {
		now := at(time.Duration(round) * time.Minute)
		tasks := f.claim("w", now, time.Minute, 10)
		if len(tasks) != 4 {
			t.Fatalf("round %d claimed %d", round, len(tasks))
		}
		for _, task := range tasks {
			c := retry(task, now, now.Add(time.Minute))
			f.complete("w", c)
			all = append(all, c.Attempt.ID)
			made[key(task.Event.ID, task.Endpoint.ID)] = append(made[key(task.Event.ID, task.Endpoint.ID)], c.Attempt.ID)
			made[key(task.Event.ID, "")] = append(made[key(task.Event.ID, "")], c.Attempt.ID)
			made[key("", task.Endpoint.ID)] = append(made[key("", task.Endpoint.ID)], c.Attempt.ID)
		}
	}
	made[key("", "")] = all
	for _, c := range []struct{ ev, ep string }{
		{"", ""}, {ev1.ID, ""}, {ev2.ID, ""}, {"", e1.ID}, {"", e2.ID}, {ev1.ID, e2.ID}, {ev2.ID, e1.ID}, {"evt_none", ""},
	} {
		for _, limit := range []int{0, 2, 5} {
			t.Run(fmt.Sprintf("event=%s/endpoint=%s/limit=%d", c.ev, c.ep, limit), func(t *testing.T) {
				got := walk(t, limit, func(p hookline.Page) ([]string, bool, error) {
					as, more, err := f.s.ListAttempts(f.ctx, hookline.AttemptFilter{Page: p, EventID: c.ev, EndpointID: c.ep})
					ids := make([]string, len(as))
					for i, a := range as {
						ids[i] = a.ID
					}
					return ids, more, err
				})
				if want := reversed(made[key(c.ev, c.ep)]); !slices.Equal(got, want) {
					t.Fatalf("got %v, want %v", got, want)
				}
			})
		}
	}
}

func testBacklog(t *testing.T, f *fixture) {
	check := func(pending int64, oldest time.Time) {
		t.Helper()
		b, err := f.s.Backlog(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b.Pending != pending {
			t.Fatalf("Pending = %d, want %d", b.Pending, pending)
		}
		sameTime(t, "Oldest", b.Oldest, oldest)
	}
	check(0, time.Time{})
	f.endpoint([]string{"*"})
	f.endpoint([]string{"invoice.*"})
	// Published at 2 s and 5 s (the publish time counts, not the event's).
	f.publish(hookline.PublishOptions{Now: at(2 * time.Second)}, event("customer.created", "", at(time.Second)))
	f.publish(hookline.PublishOptions{Now: at(5 * time.Second)}, event("invoice.paid", "", at(5*time.Second)))
	check(3, at(2*time.Second))
	tasks := f.claim("w", at(10*time.Second), time.Minute, 10)
	check(3, at(2*time.Second)) // in flight is still pending
	// The oldest fails and waits an hour for its retry: it is still the
	// oldest pending, though not due; the others succeed.
	for _, task := range tasks {
		if task.Event.Type == "customer.created" {
			f.complete("w", retry(task, at(11*time.Second), at(time.Hour)))
		} else {
			f.complete("w", succeeded(task, at(11*time.Second)))
		}
	}
	check(1, at(2*time.Second))
	b, err := f.s.Backlog(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.OldestAge(at(time.Minute)); got != 58*time.Second {
		t.Fatalf("OldestAge a minute in = %v, want 58s: a delivery waiting for its retry has waited since it was created", got)
	}
	// What the chart samples is that same age.
	if err := f.s.RecordBacklog(f.ctx, at(time.Minute), b); err != nil {
		t.Fatalf("RecordBacklog: %v", err)
	}
	got, err := f.s.BacklogStats(f.ctx, hookline.StatsFilter{From: base, To: at(time.Hour), Step: time.Minute})
	if err != nil || len(got) != 1 || got[0].Pending != 1 || got[0].OldestAgeMS != 58_000 {
		t.Fatalf("BacklogStats after sampling = %+v, %v; want one bucket of 1 pending, 58000 ms", got, err)
	}
	tasks = f.claim("w", at(time.Hour), time.Minute, 10)
	if len(tasks) != 1 {
		t.Fatalf("claimed %d tasks at the retry, want 1", len(tasks))
	}
	f.complete("w", succeeded(tasks[0], at(time.Hour+time.Second)))
	check(0, time.Time{})

	// A resend puts the finished delivery back: it has waited since the
	// resend, not since it was first created two hours before.
	resend := func(now time.Time) {
		t.Helper()
		if _, err := f.s.Resend(f.ctx, tasks[0].Event.ID, tasks[0].Endpoint.ID, now); err != nil {
			t.Fatalf("Resend: %v", err)
		}
	}
	resend(at(2 * time.Hour))
	check(1, at(2*time.Hour))
	// Resending it again while it still waits does not make it younger.
	resend(at(3 * time.Hour))
	check(1, at(2*time.Hour))
	// Once delivered and resent again, it waits from the new resend.
	tasks = f.claim("w", at(3*time.Hour), time.Minute, 10)
	if len(tasks) != 1 {
		t.Fatalf("claimed %d tasks after the resend, want 1", len(tasks))
	}
	f.complete("w", succeeded(tasks[0], at(3*time.Hour+time.Second)))
	resend(at(4 * time.Hour))
	check(1, at(4*time.Hour))
}

func testSettings(t *testing.T, f *fixture) {
	_, err := f.s.Setting(f.ctx, "missing")
	wantCode(t, err, hookline.ENOTFOUND)
	for _, v := range []string{"one", "", "three\nlines ü"} {
		if err := f.s.SetSetting(f.ctx, "name", v); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.Setting(f.ctx, "name")
		if err != nil || got != v {
			t.Fatalf("Setting = %q, %v; want %q", got, err, v)
		}
	}
	if err := f.s.SetSetting(f.ctx, "other", "x"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.s.Setting(f.ctx, "name"); got != "three\nlines ü" {
		t.Fatalf("setting another name changed this one to %q", got)
	}
	// InitSetting keeps a value already there, and of racing callers
	// the first wins: every one of them gets its value.
	if got, err := f.s.InitSetting(f.ctx, "name", "other"); err != nil || got != "three\nlines ü" {
		t.Fatalf("InitSetting over a stored value = %q, %v; want the stored value kept", got, err)
	}
	const racers = 8
	got := make([]string, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			v, err := f.s.InitSetting(f.ctx, "raced", strconv.Itoa(i))
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	stored, err := f.s.Setting(f.ctx, "raced")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != stored {
			t.Fatalf("racer %d got %q from InitSetting, but %q is stored: racers disagree", i, v, stored)
		}
	}
}
