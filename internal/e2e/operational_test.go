package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// opEvent is an operational event as a receiver gets it.
type opEvent struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Tenant string `json:"tenant"`
	Data   struct {
		Endpoint struct {
			ID          string `json:"id"`
			URL         string `json:"url"`
			Description string `json:"description"`
		} `json:"endpoint"`
		Tenant  string `json:"tenant"`
		EventID string `json:"event_id"`
		Attempt *struct {
			Status    int    `json:"status"`
			Error     string `json:"error"`
			ErrorKind string `json:"error_kind"`
		} `json:"attempt"`
		Reason string `json:"reason"`
	} `json:"data"`
}

// An endpoint subscribed to hookline.* hears, signed like any delivery,
// when another endpoint of its tenant starts failing, recovers, runs out of
// retries, is disabled and enabled through the API, and answers 410 Gone. An endpoint
// subscribed to "*" and another tenant's endpoint hear none of it, and an
// endpoint that fails the operational deliveries it gets makes no events
// about itself.
func TestOperationalEvents(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev", "--retry-schedule", "1h")
	monitor, star, other, loopy := newReceiver(t), newReceiver(t), newReceiver(t), newReceiver(t)
	flap, dead, gone := newReceiver(t), newReceiver(t), newReceiver(t)
	gone.respond = func(int, *http.Request) (int, http.Header) { return 410, nil }
	flap.respond = func(i int, _ *http.Request) (int, http.Header) { return []int{500, 200}[(i-1)%2], nil }
	dead.respond = func(int, *http.Request) (int, http.Header) { return 500, nil }
	loopy.respond = func(int, *http.Request) (int, http.Header) { return 500, nil }

	mon := n.createEndpoint(map[string]any{"url": monitor.URL + "/ops", "enabled_events": []string{"hookline.*"}, "tenant": "acme"})
	starEp := n.createEndpoint(map[string]any{"url": star.URL + "/all", "enabled_events": []string{"*"}, "tenant": "acme"})
	n.createEndpoint(map[string]any{"url": other.URL + "/ops", "enabled_events": []string{"hookline.*"}, "tenant": "other"})
	// Its circuit never opens: it fails more attempts than the server's
	// --breaker-failures, and an opening would be an event of its own.
	loopyEp := n.createEndpoint(map[string]any{"url": loopy.URL + "/ops", "enabled_events": []string{"hookline.*"}, "tenant": "acme",
		"retry_schedule": []string{"0s"}, "circuit_breaker": map[string]int{"failures": 10000}})
	flapEp := n.createEndpoint(map[string]any{"url": flap.URL + "/hook", "enabled_events": []string{"flap.*"}, "tenant": "acme",
		"description": "Flaps", "retry_schedule": []string{"0s"}})
	deadEp := n.createEndpoint(map[string]any{"url": dead.URL + "/hook", "enabled_events": []string{"dead.*"}, "tenant": "acme",
		"description": "Gone quiet", "retry_schedule": []string{"0s"}})
	goneEp := n.createEndpoint(map[string]any{"url": gone.URL + "/hook", "enabled_events": []string{"gone.*"}, "tenant": "acme",
		"description": "Gone for good"})

	wh, err := standardwebhooks.NewWebhook(mon.Secret)
	if err != nil {
		t.Fatal(err)
	}
	// received returns the operational events the monitor got, verified,
	// in the order they were published (event ids are time-ordered).
	received := func() []opEvent {
		var out []opEvent
		for _, r := range monitor.all() {
			if err := wh.Verify(r.Body, r.Header); err != nil {
				t.Fatalf("the Standard Webhooks library rejects an operational event: %v\n%s", err, r.Body)
			}
			var ev opEvent
			if err := json.Unmarshal(r.Body, &ev); err != nil {
				t.Fatalf("decoding %s: %v", r.Body, err)
			}
			out = append(out, ev)
		}
		slices.SortFunc(out, func(a, b opEvent) int { return strings.Compare(a.ID, b.ID) })
		return out
	}
	waitOps := func(want int) []opEvent {
		t.Helper()
		waitFor(t, 20*time.Second, "operational events", func() bool { return monitor.count() >= want })
		return received()
	}
	publish := func(typ string) event {
		var ev event
		n.must(201, "POST", "/v1/events", map[string]any{"type": typ, "data": map[string]any{"n": 1}, "tenant": "acme"}, &ev)
		return ev
	}
	type want struct {
		typ, endpoint, url, description, eventID string
		status                                   int
		errPart, reason                          string
	}
	check := func(got opEvent, w want) {
		t.Helper()
		d := got.Data
		if got.Type != w.typ || got.Tenant != "acme" || d.Tenant != "acme" || d.Endpoint.ID != w.endpoint ||
			d.Endpoint.URL != w.url || d.Endpoint.Description != w.description || d.EventID != w.eventID || d.Reason != w.reason {
			t.Fatalf("got %+v, want %+v", got, w)
		}
		switch {
		case w.status == 0 && d.Attempt != nil:
			t.Fatalf("%s names an attempt: %+v", got.Type, d.Attempt)
		case w.status != 0 && (d.Attempt == nil || d.Attempt.Status != w.status || !strings.Contains(d.Attempt.Error, w.errPart)):
			t.Fatalf("%s attempt %+v, want status %d and an error with %q", got.Type, d.Attempt, w.status, w.errPart)
		}
	}

	// A flapping endpoint: failing on the first attempt, recovered on the
	// retry. It is new and has never succeeded: its first failure is one
	// "since it was created", and is announced as one after a success is
	// (README: operational events).
	flapEv := publish("flap.tick")
	ops := waitOps(2)
	check(ops[0], want{"hookline.delivery.failing", flapEp.ID, flapEp.URL, "Flaps", flapEv.ID, 500, "HTTP 500", ""})
	check(ops[1], want{"hookline.delivery.recovered", flapEp.ID, flapEp.URL, "Flaps", flapEv.ID, 200, "", ""})

	// An endpoint that fails until its schedule (one retry) runs out.
	deadEv := publish("dead.tick")
	ops = waitOps(4)
	check(ops[2], want{"hookline.delivery.failing", deadEp.ID, deadEp.URL, "Gone quiet", deadEv.ID, 500, "HTTP 500", ""})
	check(ops[3], want{"hookline.delivery.exhausted", deadEp.ID, deadEp.URL, "Gone quiet", deadEv.ID, 500, "gave up after 2 attempts", ""})

	// Disabled, then enabled again, through the API.
	n.must(200, "PATCH", "/v1/endpoints/"+deadEp.ID, map[string]any{"status": "disabled"}, nil)
	n.must(200, "PATCH", "/v1/endpoints/"+deadEp.ID, map[string]any{"status": "enabled"}, nil)
	ops = waitOps(6)
	check(ops[4], want{"hookline.endpoint.disabled", deadEp.ID, deadEp.URL, "Gone quiet", "", 0, "", "disabled through the API"})
	check(ops[5], want{"hookline.endpoint.enabled", deadEp.ID, deadEp.URL, "Gone quiet", "", 0, "", "enabled through the API"})

	// An endpoint that answers 410 Gone: failing, and disabled.
	goneEv := publish("gone.tick")
	ops = waitOps(8)
	check(ops[6], want{"hookline.delivery.failing", goneEp.ID, goneEp.URL, "Gone for good", goneEv.ID, 410, "410 Gone", ""})
	check(ops[7], want{"hookline.endpoint.disabled", goneEp.ID, goneEp.URL, "Gone for good", goneEv.ID, 410, "410 Gone", "endpoint answered 410 Gone"})

	// The star endpoint got the application's events, so it was listening.
	waitFor(t, 10*time.Second, "the application's events at the * endpoint", func() bool { return star.count() >= 3 })
	// The fan-out of every operational event, read back: the monitor and
	// the endpoint that fails them, never the * endpoint or the other
	// tenant's.
	for _, op := range ops {
		var l struct {
			Data []struct {
				EndpointID string `json:"endpoint_id"`
			} `json:"data"`
		}
		n.must(200, "GET", "/v1/events/"+op.ID+"/deliveries", nil, &l)
		var to []string
		for _, d := range l.Data {
			to = append(to, d.EndpointID)
		}
		slices.Sort(to)
		wantTo := []string{mon.ID, loopyEp.ID}
		slices.Sort(wantTo)
		if !slices.Equal(to, wantTo) {
			t.Fatalf("%s went to %v, want the monitor %s and %s alone (* endpoint %s)", op.Type, to, mon.ID, loopyEp.ID, starEp.ID)
		}
	}
	// The endpoint failing every operational delivery, past its retries,
	// caused no event about itself: wait until it has failed them all.
	waitFor(t, 20*time.Second, "the failing subscriber's attempts", func() bool { return loopy.count() >= 2*len(ops) })
	time.Sleep(2 * time.Second) // two rounds of the operational publisher
	ops = received()
	if len(ops) != 8 {
		t.Fatalf("the monitor got %d operational events, want 8: %+v", len(ops), ops)
	}
	for _, r := range star.all() {
		if strings.Contains(string(r.Body), `"type":"hookline.`) {
			t.Fatalf("the * endpoint got an operational event: %s", r.Body)
		}
	}
	if other.count() != 0 {
		t.Fatalf("the other tenant's endpoint got %d operational events", other.count())
	}
}

// Two nodes sharing PostgreSQL, both attempting the deliveries of an
// endpoint that always fails: the endpoint's first failure makes one
// hookline.delivery.failing, and each delivery that runs out of retries one
// hookline.delivery.exhausted, whichever node made the attempt and however
// many nodes see the recorded event.
func TestOperationalEventsAcrossNodes(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	a := startNode(t, t.TempDir(), clusterArgs(dsn)...)
	b := startNode(t, t.TempDir(), clusterArgs(dsn)...)
	monitor, dead := newReceiver(t), newReceiver(t)
	dead.respond = func(int, *http.Request) (int, http.Header) { return 500, nil }
	mon := a.createEndpoint(map[string]any{"url": monitor.URL + "/ops", "enabled_events": []string{"hookline.*"}})
	// Its circuit never opens, so that every delivery runs out of retries
	// (the breaker's events are TestCircuitBreaker's).
	deadEp := b.createEndpoint(map[string]any{"url": dead.URL + "/hook", "enabled_events": []string{"dead.*"}, "retry_schedule": []string{"0s"},
		"circuit_breaker": map[string]int{"failures": 10000}})

	const events = 20
	published := map[string]bool{}
	for i := range events {
		ev := []*node{a, b}[i%2].publish("dead.tick", map[string]any{"i": i})
		published[ev.ID] = true
	}
	wh, err := standardwebhooks.NewWebhook(mon.Secret)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the operational events", func() bool { return monitor.count() >= events+1 })
	time.Sleep(2500 * time.Millisecond) // more than two rounds of each node's operational publisher
	byID := map[string]opEvent{}        // a delivery may come twice (at least once); a publish may not
	for _, r := range monitor.all() {
		if err := wh.Verify(r.Body, r.Header); err != nil {
			t.Fatalf("the Standard Webhooks library rejects an operational event: %v", err)
		}
		var ev opEvent
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatal(err)
		}
		byID[ev.ID] = ev
	}
	failing, exhausted := 0, map[string]int{}
	for _, ev := range byID {
		if ev.Data.Endpoint.ID != deadEp.ID {
			t.Fatalf("an operational event about %s: %+v", ev.Data.Endpoint.ID, ev)
		}
		switch ev.Type {
		case "hookline.delivery.failing":
			failing++
		case "hookline.delivery.exhausted":
			if !published[ev.Data.EventID] {
				t.Fatalf("exhausted names %s, not a published event", ev.Data.EventID)
			}
			exhausted[ev.Data.EventID]++
		default:
			t.Fatalf("unexpected %s", ev.Type)
		}
	}
	if failing != 1 || len(exhausted) != events || len(byID) != events+1 {
		t.Fatalf("two nodes published %d failing (want 1) and %d exhausted for %d events (want one each): %v", failing, len(byID)-failing, len(exhausted), exhausted)
	}
}
