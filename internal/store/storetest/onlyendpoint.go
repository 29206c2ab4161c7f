package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// runOnlyEndpoint checks Event.OnlyEndpoint: a test event reaches the one
// endpoint named, whatever it subscribes to, and no other.
func runOnlyEndpoint(t *testing.T, open func(t *testing.T) hookline.Store) {
	t.Run("OnlyEndpoint", func(t *testing.T) {
		t.Parallel()
		testOnlyEndpoint(t, newFixture(t, open))
	})
}

func testOnlyEndpoint(t *testing.T, f *fixture) {
	f.endpoint([]string{"*"}) // "*" gets no operational event, tested or not
	hooks := f.endpoint([]string{"hookline.*"})
	invoices := f.endpoint([]string{"invoice.*"}, tenant("acme")) // neither the type nor the tenant of the test event
	other := f.endpoint([]string{"*"})
	off := f.endpoint([]string{"*"}, disabled)

	testEvent := func(only string) *hookline.Event {
		ev := event("hookline.test", "", at(time.Second))
		ev.OnlyEndpoint = only
		return ev
	}
	ids := func(eps ...*hookline.Endpoint) []string {
		var out []string
		for _, e := range eps {
			out = append(out, e.ID)
		}
		slices.Sort(out)
		return out
	}

	cases := []struct {
		name string
		only string
		want []string
	}{
		{"unsubscribed endpoint of another tenant", invoices.ID, ids(invoices)},
		{"endpoint subscribed to everything", other.ID, ids(other)},
		{"disabled endpoint", off.ID, nil},
		{"no such endpoint", "ep_missing", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := f.with(t)
			ev := testEvent(c.only)
			p := f.publish(hookline.PublishOptions{}, ev)[0]
			if p.Duplicate || p.Deliveries != len(c.want) {
				t.Fatalf("published %+v, want %d deliveries", p, len(c.want))
			}
			if got := endpointIDsOf(f.deliveries(ev.ID)); !slices.Equal(got, c.want) {
				t.Fatalf("deliveries to %v, want %v", got, c.want)
			}
		})
	}

	// In one batch beside ordinary events of the same type and tenant, each
	// test event keeps to its endpoint and the ordinary one fans out as
	// usual; leased tasks name the right endpoints.
	t.Run("mixed batch", func(t *testing.T) {
		f := f.with(t)
		toInvoices, toOther := testEvent(invoices.ID), testEvent(other.ID)
		plain := event("hookline.test", "", at(time.Second))
		ps := f.publish(hookline.PublishOptions{LeaseOwner: "node_a", LeaseExpires: at(time.Minute)}, toInvoices, plain, toOther)
		want := map[*hookline.Event][]string{
			toInvoices: ids(invoices),
			plain:      ids(hooks), // "*" does not match operational types; "hookline.*" does
			toOther:    ids(other),
		}
		for i, ev := range []*hookline.Event{toInvoices, plain, toOther} {
			if got := endpointIDsOf(f.deliveries(ev.ID)); !slices.Equal(got, want[ev]) {
				t.Fatalf("event %d: deliveries to %v, want %v", i, got, want[ev])
			}
			var tasks []string
			for _, task := range ps[i].Tasks {
				if task.Event.ID != ev.ID {
					t.Fatalf("event %d: task for %s", i, task.Event.ID)
				}
				tasks = append(tasks, task.Endpoint.ID)
			}
			slices.Sort(tasks)
			if !slices.Equal(tasks, want[ev]) {
				t.Fatalf("event %d: tasks for %v, want %v", i, tasks, want[ev])
			}
		}
	})
}
