package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/pgtest"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Two nodes sharing a PostgreSQL database both see the operational events
// recorded there and both publish them at once: each is published once,
// fanned out to the subscriber of its tenant alone, and then forgotten.
func TestOperationalPublishedOnceAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	var nodes []*Operational
	var stores []*postgres.Store
	for range 2 {
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		p := NewPublisher(PublisherConfig{Store: s})
		t.Cleanup(p.Stop)
		stores = append(stores, s)
		nodes = append(nodes, NewOperational(OperationalConfig{Store: s, Publisher: p}))
	}
	s := stores[0]
	now := time.Now().Truncate(time.Millisecond)
	newEndpoint := func(tenant string, patterns ...string) *hookline.Endpoint {
		e := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "https://example.test/" + tenant, EnabledEvents: patterns,
			Description: "for " + tenant, Tenant: tenant, Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard,
			Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", Created: now, Updated: now}
		if err := s.CreateEndpoint(ctx, e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	monitor := newEndpoint("acme", "hookline.*")
	elsewhere := newEndpoint("other", "hookline.*")
	const subjects = 3
	for range subjects {
		newEndpoint("acme", "order.*")
	}
	// Every subject fails its one delivery for good: failing and exhausted.
	payload, _ := hookline.NewEventPayload("evt_1", "order.paid", now, "acme", []byte(`{}`))
	ev := &hookline.Event{ID: hookline.NewID("evt"), Type: "order.paid", Created: now, Tenant: "acme", Payload: payload}
	if _, err := s.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	tasks, err := s.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "n1", Now: now, Lease: time.Minute, Limit: 10, MaxConcurrency: hookline.MaxMaxConcurrency})
	if err != nil || len(tasks) != subjects {
		t.Fatalf("claimed %d: %v", len(tasks), err)
	}
	var cs []hookline.Completion
	for _, task := range tasks {
		cs = append(cs, hookline.Completion{Status: hookline.DeliveryFailed, Attempt: hookline.Attempt{
			ID: hookline.NewID("atm"), DeliveryID: task.DeliveryID, EventID: ev.ID, EndpointID: task.Endpoint.ID,
			Attempt: 1, Created: now, URL: task.Endpoint.URL, Error: "connection refused", ErrorKind: hookline.AttemptErrorRefused}})
	}
	if err := s.CompleteTasks(ctx, "n1", cs); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for _, o := range nodes {
		wg.Go(func() {
			for range 3 {
				o.publishRecorded(context.Background())
			}
		})
	}
	wg.Wait()

	if left, err := stores[1].OperationalEvents(ctx, 100); err != nil || len(left) != 0 {
		t.Fatalf("%d operational events left recorded: %v", len(left), err)
	}
	for _, typ := range []string{hookline.OpDeliveryFailing, hookline.OpDeliveryExhausted} {
		evs, _, err := s.ListEvents(ctx, hookline.EventFilter{Type: typ, Page: hookline.Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != subjects {
			t.Fatalf("%d %s events published by two nodes, want %d", len(evs), typ, subjects)
		}
		seen := map[string]bool{}
		for _, e := range evs {
			var body struct {
				Data operationalData `json:"data"`
			}
			if err := json.Unmarshal(e.Payload, &body); err != nil {
				t.Fatal(err)
			}
			d := body.Data
			if e.Tenant != "acme" || d.Tenant != "acme" || d.EventID != ev.ID || d.Endpoint.Description != "for acme" ||
				d.Attempt == nil || d.Attempt.Status != 0 || d.Attempt.ErrorKind != hookline.AttemptErrorRefused || seen[d.Endpoint.ID] {
				t.Fatalf("%s %s", typ, e.Payload)
			}
			seen[d.Endpoint.ID] = true
			ds, err := s.Deliveries(ctx, e.ID)
			if err != nil || len(ds) != 1 || ds[0].EndpointID != monitor.ID {
				t.Fatalf("%s went to %d endpoints (%v), want the monitor %s alone (not %s)", typ, len(ds), err, monitor.ID, elsewhere.ID)
			}
		}
	}
}

// The circuit breaker's events, recorded by the store with the circuit's
// transitions and published from there, reach an endpoint subscribed to
// the exact type, with the attempt that made the transition and the next
// probe; the endpoint's tenant scopes them.
func TestCircuitEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hookline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := NewPublisher(PublisherConfig{Store: st})
	t.Cleanup(p.Stop)
	o := NewOperational(OperationalConfig{Store: st, Publisher: p})
	now := time.Now().Truncate(time.Second)
	var eps []*hookline.Endpoint
	for _, sub := range []struct{ tenant, pattern string }{
		{"acme", hookline.OpCircuitOpened}, {"acme", "*"}, {"other", "hookline.*"}, {"acme", "order.*"},
	} {
		e := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "https://example.test/" + sub.pattern, EnabledEvents: []string{sub.pattern},
			Description: "breaks", Tenant: sub.tenant, Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard,
			Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", Created: now, Updated: now, BreakerFailures: 1}
		if err := st.CreateEndpoint(ctx, e); err != nil {
			t.Fatal(err)
		}
		eps = append(eps, e)
	}
	subscriber, broken := eps[0], eps[3]
	// Two order events for the broken endpoint: the first fails and opens
	// its circuit, the second is the probe that closes it.
	var orders []*hookline.Event
	for i := range 2 {
		payload, _ := hookline.NewEventPayload("evt", "order.paid", now, "acme", []byte(`{}`))
		ev := &hookline.Event{ID: fmt.Sprintf("evt_%d_%s", i, hookline.NewID("x")), Type: "order.paid", Created: now, Tenant: "acme", Payload: payload}
		if _, err := st.PublishEvents(ctx, []*hookline.Event{ev}, hookline.PublishOptions{Now: now}); err != nil {
			t.Fatal(err)
		}
		orders = append(orders, ev)
	}
	// The "*" subscriber has the orders too; only the broken endpoint's
	// deliveries are attempted. A half-open circuit gives one, the probe.
	claim := func(at time.Time) *hookline.Task {
		t.Helper()
		tasks, err := st.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "n1", Now: at, Lease: time.Hour, Limit: 10, MaxConcurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			if task.Endpoint.ID == broken.ID {
				return task
			}
		}
		t.Fatalf("no delivery of %s claimed at %v", broken.ID, at)
		return nil
	}
	complete := func(task *hookline.Task, at time.Time, status int, errMsg, kind string) {
		t.Helper()
		c := hookline.Completion{Status: hookline.DeliveryPending, Breaker: &hookline.BreakerCheck{}, Attempt: hookline.Attempt{
			DeliveryID: task.DeliveryID, EventID: task.Event.ID, EndpointID: broken.ID, Attempt: 1, Created: at, URL: broken.URL,
			ResponseStatus: status, Error: errMsg, ErrorKind: kind, NextRetry: at}}
		if status == 200 {
			c.Status = hookline.DeliverySucceeded
		}
		if err := st.CompleteTasks(ctx, "n1", []hookline.Completion{c}); err != nil {
			t.Fatal(err)
		}
		o.publishRecorded(ctx)
	}
	first := claim(now)
	complete(first, now, 0, "dial tcp: connection refused", hookline.AttemptErrorRefused)
	nextProbe := now.Add(hookline.DefaultCircuitCoolDown)
	probe := claim(nextProbe)
	complete(probe, nextProbe, 200, "", "")
	for _, c := range []struct {
		typ, want   string
		deliveredTo []string
	}{
		{hookline.OpCircuitOpened, `{"endpoint":{"id":"` + broken.ID + `","url":"https://example.test/order.*","description":"breaks"},"tenant":"acme","event_id":"` + first.Event.ID + `","attempt":{"status":0,"error":"dial tcp: connection refused","error_kind":"refused"},"reason":"failed attempts in a row","next_probe_at":` + fmt.Sprint(nextProbe.Unix()) + `}`,
			[]string{subscriber.ID}},
		{hookline.OpCircuitClosed, `{"endpoint":{"id":"` + broken.ID + `","url":"https://example.test/order.*","description":"breaks"},"tenant":"acme","event_id":"` + probe.Event.ID + `","attempt":{"status":200},"reason":"an attempt succeeded"}`,
			nil}, // the subscriber took circuit_opened alone
	} {
		evs, _, err := st.ListEvents(ctx, hookline.EventFilter{Type: c.typ})
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s: %d events, %v", c.typ, len(evs), err)
		}
		var body struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(evs[0].Payload, &body); err != nil {
			t.Fatal(err)
		}
		if string(body.Data) != c.want || evs[0].Tenant != "acme" {
			t.Fatalf("%s (tenant %q)\n got %s\nwant %s", c.typ, evs[0].Tenant, body.Data, c.want)
		}
		ds, err := st.Deliveries(ctx, evs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		var to []string
		for _, d := range ds {
			to = append(to, d.EndpointID)
		}
		if fmt.Sprint(to) != fmt.Sprint(c.deliveredTo) {
			t.Fatalf("%s delivered to %v, want %v", c.typ, to, c.deliveredTo)
		}
	}
}
