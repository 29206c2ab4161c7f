package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// runEndpointOptions checks an endpoint's filter, static headers and retry
// schedule: they round-trip, the filter narrows fan-out and resend, and
// operational events reach only explicit subscriptions.
func runEndpointOptions(t *testing.T, open func(t *testing.T) hookline.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"EndpointOptionsRoundTrip", testEndpointOptionsRoundTrip},
		{"FanOutFilter", testFanOutFilter},
		{"OperationalEvents", testOperationalFanOut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newFixture(t, open))
		})
	}
}

func mustFilter(t *testing.T, raw string) *hookline.Filter {
	t.Helper()
	f, err := hookline.ParseFilter([]byte(raw), hookline.EventFilterFields)
	if err != nil {
		t.Fatalf("ParseFilter(%s): %v", raw, err)
	}
	return f
}

func testEndpointOptionsRoundTrip(t *testing.T, f *fixture) {
	e := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.Filter = mustFilter(t, `{"data.amount": {"in": [100, 200.5]}, "type": "invoice.paid"}`)
		e.Headers = hookline.Headers{"Authorization": "Basic dXNlcjpwYXNz", "X-Token": "t0k3n"}
		e.RetrySchedule = []time.Duration{0, 1500 * time.Millisecond, time.Hour}
	})
	got := f.getEndpoint(e.ID)
	sameEndpoint(t, got, e)
	if string(got.Filter.JSON()) != `{"data.amount":{"in":[100,200.5]},"type":"invoice.paid"}` {
		t.Fatalf("filter read back as %s", got.Filter.JSON())
	}

	// An empty schedule (no retries) is not the server's schedule (nil).
	e.RetrySchedule = []time.Duration{}
	e.Filter, e.Headers = nil, nil
	if err := f.s.UpdateEndpoint(f.ctx, e); err != nil {
		t.Fatal(err)
	}
	got = f.getEndpoint(e.ID)
	if got.RetrySchedule == nil || len(got.RetrySchedule) != 0 || !got.Filter.Empty() || len(got.Headers) != 0 {
		t.Fatalf("after clearing: schedule %#v filter %s headers %v", got.RetrySchedule, got.Filter.JSON(), got.Headers)
	}
	e.RetrySchedule = nil
	if err := f.s.UpdateEndpoint(f.ctx, e); err != nil {
		t.Fatal(err)
	}
	if got := f.getEndpoint(e.ID); got.RetrySchedule != nil {
		t.Fatalf("schedule %#v, want nil (the server's)", got.RetrySchedule)
	}

	// Claimed tasks carry them, for the engine.
	e2 := f.endpoint([]string{"x.y"}, func(e *hookline.Endpoint) {
		e.Headers = hookline.Headers{"X-Token": "abc"}
		e.RetrySchedule = []time.Duration{2 * time.Second}
	})
	f.publishAt("x.y", base)
	var task *hookline.Task
	for _, tk := range f.claim("w", base, time.Minute, 10) {
		if tk.Endpoint.ID == e2.ID {
			task = tk
		}
	}
	if task == nil || task.Endpoint.Headers["X-Token"] != "abc" ||
		!slices.Equal(task.Endpoint.RetrySchedule, []time.Duration{2 * time.Second}) {
		t.Fatalf("claimed %+v", task)
	}
}

func testFanOutFilter(t *testing.T, f *fixture) {
	big := f.endpoint([]string{"invoice.*"}, func(e *hookline.Endpoint) {
		e.Filter = mustFilter(t, `{"data.amount": {"in": [1000, 2000]}}`)
	})
	eur := f.endpoint([]string{"*"}, func(e *hookline.Endpoint) {
		e.Filter = mustFilter(t, `{"data.currency": {"prefix": "eu"}, "tenant": {"exists": true}}`)
	})
	plain := f.endpoint([]string{"invoice.*"})

	publish := func(tenant, data string) *hookline.Event {
		id := hookline.NewID("evt")
		payload, err := hookline.NewEventPayload(id, "invoice.paid", base, tenant, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		ev := &hookline.Event{ID: id, Type: "invoice.paid", Created: base, Tenant: tenant, Payload: payload}
		f.publish(hookline.PublishOptions{}, ev)
		return ev
	}
	ids := func(es ...*hookline.Endpoint) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		tenant, data string
		want         []string
	}{
		{"", `{"amount": 1000, "currency": "eur"}`, ids(big, plain)}, // eur wants a tenant
		{"acme", `{"amount": 1000, "currency": "eur"}`, ids(big, eur, plain)},
		{"acme", `{"amount": 999, "currency": "usd"}`, ids(plain)},
		{"acme", `{"amount": 2000.0}`, ids(big, plain)}, // numbers by value
		{"acme", `{}`, ids(plain)},
	} {
		ev := publish(c.tenant, c.data)
		if got := endpointIDsOf(f.deliveries(ev.ID)); !slices.Equal(got, c.want) {
			t.Errorf("%s %s: deliveries to %v, want %v", c.tenant, c.data, got, c.want)
		}
	}

	// Resending to every subscriber applies the filter too; naming the
	// endpoint overrides it, as it overrides the subscription.
	ev := publish("acme", `{"amount": 5}`)
	ds, err := f.s.Resend(f.ctx, ev.ID, "", at(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := endpointIDsOf(ds); !slices.Equal(got, ids(plain)) {
		t.Fatalf("Resend to subscribers reached %v, want %v", got, ids(plain))
	}
	if ds, err := f.s.Resend(f.ctx, ev.ID, big.ID, at(time.Hour)); err != nil || len(ds) != 1 {
		t.Fatalf("Resend to a named endpoint: %v, %v", ds, err)
	}
}

func testOperationalFanOut(t *testing.T, f *fixture) {
	all := f.endpoint([]string{"*"})
	ops := f.endpoint([]string{"hookline.*"})
	exhausted := f.endpoint([]string{"hookline.delivery.exhausted"})
	acmeOps := f.endpoint([]string{"hookline.*", "*"}, tenant("acme"))

	for _, c := range []struct {
		typ, tenant string
		want        []*hookline.Endpoint
	}{
		{"hookline.delivery.exhausted", "", []*hookline.Endpoint{ops, exhausted}},
		{"hookline.delivery.exhausted", "acme", []*hookline.Endpoint{ops, exhausted, acmeOps}},
		{"hookline.endpoint.disabled", "globex", []*hookline.Endpoint{ops}},
		{"invoice.paid", "acme", []*hookline.Endpoint{all, acmeOps}},
	} {
		ev := event(c.typ, c.tenant, base)
		f.publish(hookline.PublishOptions{}, ev)
		var want []string
		for _, e := range c.want {
			want = append(want, e.ID)
		}
		slices.Sort(want)
		if got := endpointIDsOf(f.deliveries(ev.ID)); !slices.Equal(got, want) {
			t.Errorf("%s/%s: deliveries to %v, want %v", c.typ, c.tenant, got, want)
		}
	}
}
