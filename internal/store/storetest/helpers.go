package storetest

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// base is the suite's clock: every time given to a store is derived from it,
// in whole milliseconds, which every adapter keeps exactly.
var base = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// at returns base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

// fixture wraps a fresh store with helpers that fail the test on error.
type fixture struct {
	t   *testing.T
	ctx context.Context
	s   hookline.Store
}

func newFixture(t *testing.T, open func(t *testing.T) hookline.Store) *fixture {
	t.Helper()
	return &fixture{t: t, ctx: t.Context(), s: open(t)}
}

// endpoint creates an enabled endpoint subscribed to patterns, after
// applying mods.
func (f *fixture) endpoint(patterns []string, mods ...func(*hookline.Endpoint)) *hookline.Endpoint {
	f.t.Helper()
	e := &hookline.Endpoint{
		ID:              hookline.NewID("ep"),
		URL:             "https://example.test/hook",
		EnabledEvents:   patterns,
		Status:          hookline.EndpointEnabled,
		SignatureScheme: hookline.SchemeStandard,
		Secret:          "whsec_" + hookline.NewID("s"),
		Created:         base,
		Updated:         base,
	}
	for _, m := range mods {
		m(e)
	}
	if err := f.s.CreateEndpoint(f.ctx, e); err != nil {
		f.t.Fatalf("CreateEndpoint: %v", err)
	}
	return e
}

func tenant(name string) func(*hookline.Endpoint) {
	return func(e *hookline.Endpoint) { e.Tenant = name }
}

func disabled(e *hookline.Endpoint) {
	e.Status = hookline.EndpointDisabled
	e.DisabledReason = "manual"
}

// event returns a new, unpublished event.
func event(typ, tenant string, created time.Time) *hookline.Event {
	id := hookline.NewID("evt")
	payload, err := hookline.NewEventPayload(id, typ, created, tenant, []byte(`{"n":1}`))
	if err != nil {
		panic(err)
	}
	return &hookline.Event{ID: id, Type: typ, Created: created, Tenant: tenant, Payload: payload}
}

// publish publishes events with opts; a zero opts.Now becomes base.
func (f *fixture) publish(opts hookline.PublishOptions, events ...*hookline.Event) []hookline.Published {
	f.t.Helper()
	if opts.Now.IsZero() {
		opts.Now = base
	}
	out, err := f.s.PublishEvents(f.ctx, events, opts)
	if err != nil {
		f.t.Fatalf("PublishEvents: %v", err)
	}
	if len(out) != len(events) {
		f.t.Fatalf("PublishEvents returned %d results for %d events", len(out), len(events))
	}
	return out
}

// publishAt publishes one event of type typ created at created.
func (f *fixture) publishAt(typ string, created time.Time) *hookline.Event {
	f.t.Helper()
	ev := event(typ, "", created)
	f.publish(hookline.PublishOptions{}, ev)
	return ev
}

// claim claims with a cap no test of one endpoint reaches, as a claim
// without fairness would; claimReq asks for more.
func (f *fixture) claim(owner string, now time.Time, lease time.Duration, limit int) []*hookline.Task {
	f.t.Helper()
	return f.claimReq(hookline.ClaimRequest{Owner: owner, Now: now, Lease: lease, Limit: limit, MaxConcurrency: hookline.MaxMaxConcurrency})
}

func (f *fixture) claimReq(req hookline.ClaimRequest) []*hookline.Task {
	f.t.Helper()
	tasks, err := f.s.ClaimTasks(f.ctx, req)
	if err != nil {
		f.t.Fatalf("ClaimTasks: %v", err)
	}
	return tasks
}

func (f *fixture) complete(owner string, cs ...hookline.Completion) {
	f.t.Helper()
	if err := f.s.CompleteTasks(f.ctx, owner, cs); err != nil {
		f.t.Fatalf("CompleteTasks: %v", err)
	}
}

func (f *fixture) deliveries(eventID string) []*hookline.Delivery {
	f.t.Helper()
	ds, err := f.s.Deliveries(f.ctx, eventID)
	if err != nil {
		f.t.Fatalf("Deliveries: %v", err)
	}
	return ds
}

// delivery returns the only delivery of an event.
func (f *fixture) delivery(eventID string) *hookline.Delivery {
	f.t.Helper()
	ds := f.deliveries(eventID)
	if len(ds) != 1 {
		f.t.Fatalf("event %s has %d deliveries, want 1", eventID, len(ds))
	}
	return ds[0]
}

func (f *fixture) getEndpoint(id string) *hookline.Endpoint {
	f.t.Helper()
	e, err := f.s.Endpoint(f.ctx, id)
	if err != nil {
		f.t.Fatalf("Endpoint(%s): %v", id, err)
	}
	return e
}

func (f *fixture) attempts(filter hookline.AttemptFilter) []*hookline.Attempt {
	f.t.Helper()
	filter.Limit = 100
	as, _, err := f.s.ListAttempts(f.ctx, filter)
	if err != nil {
		f.t.Fatalf("ListAttempts: %v", err)
	}
	return as
}

// result builds the completion of task t made at when.
func result(t *hookline.Task, when time.Time, status int, deliveryStatus string, nextRetry time.Time) hookline.Completion {
	a := hookline.Attempt{
		ID:             hookline.NewID("atm"),
		DeliveryID:     t.DeliveryID,
		EventID:        t.Event.ID,
		EndpointID:     t.Endpoint.ID,
		Attempt:        t.Attempt,
		Created:        when,
		URL:            t.Endpoint.URL,
		ResponseStatus: status,
		DurationMS:     12,
		NextRetry:      nextRetry,
	}
	if status < 200 || status > 299 {
		a.Error = fmt.Sprintf("status %d", status)
	}
	return hookline.Completion{Attempt: a, Status: deliveryStatus}
}

func succeeded(t *hookline.Task, when time.Time) hookline.Completion {
	return result(t, when, 200, hookline.DeliverySucceeded, time.Time{})
}

func retry(t *hookline.Task, when, next time.Time) hookline.Completion {
	return result(t, when, 500, hookline.DeliveryPending, next)
}

func failed(t *hookline.Task, when time.Time) hookline.Completion {
	return result(t, when, 500, hookline.DeliveryFailed, time.Time{})
}

// wantCode fails unless err carries the hookline error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := hookline.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

// normTime makes times comparable with reflect.DeepEqual: UTC, no monotonic
// reading, the zero time as is.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}

// normEndpoint copies e with its times normalised and empty collections nil.
func normEndpoint(e *hookline.Endpoint) hookline.Endpoint {
	c := *e
	c.PreviousSecretExpires = normTime(c.PreviousSecretExpires)
	c.FailingSince = normTime(c.FailingSince)
	c.Created = normTime(c.Created)
	c.Updated = normTime(c.Updated)
	if len(c.Metadata) == 0 {
		c.Metadata = nil
	}
	if len(c.EnabledEvents) == 0 {
		c.EnabledEvents = nil
	}
	if len(c.Headers) == 0 {
		c.Headers = nil
	}
	if c.Filter.Empty() {
		c.Filter = nil
	}
	if c.Circuit.State == "" { // a new endpoint's circuit reads back closed
		c.Circuit.State = hookline.CircuitClosed
	}
	return c
}

func sameEndpoint(t *testing.T, got, want *hookline.Endpoint) {
	t.Helper()
	if g, w := normEndpoint(got), normEndpoint(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("endpoint differs:\n got %+v\nwant %+v", g, w)
	}
}

func normEvent(e *hookline.Event) hookline.Event {
	c := *e
	c.Created = normTime(c.Created)
	if len(c.Payload) == 0 {
		c.Payload = nil
	}
	return c
}

func sameEvent(t *testing.T, got, want *hookline.Event) {
	t.Helper()
	if g, w := normEvent(got), normEvent(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("event differs:\n got %+v (payload %q)\nwant %+v (payload %q)", g, g.Payload, w, w.Payload)
	}
}

func normAttempt(a *hookline.Attempt) hookline.Attempt {
	c := *a
	c.Created = normTime(c.Created)
	c.NextRetry = normTime(c.NextRetry)
	return c
}

// sameTime fails unless got and want are the same instant.
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// taskIDs returns the delivery ids of tasks.
func taskIDs(tasks []*hookline.Task) []string {
	ids := make([]string, len(tasks))
	for i, t := range tasks {
		ids[i] = t.DeliveryID
	}
	return ids
}

// endpointIDsOf returns the sorted endpoint ids of deliveries.
func endpointIDsOf(ds []*hookline.Delivery) []string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.EndpointID
	}
	slices.Sort(ids)
	return ids
}

// sortedKeys returns the sorted ids in a set.
func sortedKeys(m map[string]bool) []string {
	return slices.Sorted(maps.Keys(m))
}

// walk reads every page of a list with the given page size and returns the
// ids in order, checking that has_more is true exactly on the pages that are
// not the last.
func walk(t *testing.T, limit int, list func(p hookline.Page) ([]string, bool, error)) []string {
	t.Helper()
	var all []string
	p := hookline.Page{Limit: limit}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		ids, more, err := list(p)
		if err != nil {
			t.Fatalf("listing page %d: %v", pages, err)
		}
		want := limit
		if limit == 0 {
			want = 10
		}
		if len(ids) > want {
			t.Fatalf("page %d has %d items, limit %d", pages, len(ids), want)
		}
		if more && len(ids) != want {
			t.Fatalf("page %d has %d items and has_more, limit %d", pages, len(ids), want)
		}
		all = append(all, ids...)
		if !more {
			return all
		}
		p.StartingAfter = ids[len(ids)-1]
	}
}

// reversed returns a reversed copy of ids: newest first.
func reversed(ids []string) []string {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

// with returns a copy of f that reports to t, for use inside subtests.
func (f *fixture) with(t *testing.T) *fixture {
	c := *f
	c.t = t
	return &c
}
