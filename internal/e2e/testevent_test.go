package e2e

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"
)

// TestTestEventReachesOneEndpoint: POST /v1/endpoints/{id}/test and
// `hookline endpoints test` deliver a hookline.test event to that endpoint
// alone, even though it does not subscribe to hookline.test and another
// endpoint subscribes to everything.
func TestTestEventReachesOneEndpoint(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	chosen, star := newReceiver(t), newReceiver(t)
	ep := n.createEndpoint(map[string]any{"url": chosen.URL + "/hooks", "enabled_events": []string{"invoice.*"}})
	starEp := n.createEndpoint(map[string]any{"url": star.URL + "/hooks", "enabled_events": []string{"*"}})

	onlyTo := func(evtID, endpointID string) {
		t.Helper()
		var ds struct {
			Data []struct {
				EndpointID string `json:"endpoint_id"`
			} `json:"data"`
		}
		n.must(200, "GET", "/v1/events/"+evtID+"/deliveries", nil, &ds)
		if len(ds.Data) != 1 || ds.Data[0].EndpointID != endpointID {
			t.Fatalf("test event %s has deliveries %+v, want one to %s", evtID, ds.Data, endpointID)
		}
	}

	// Through the API.
	var ev event
	n.must(201, "POST", "/v1/endpoints/"+ep.ID+"/test", nil, &ev)
	if ev.Type != "hookline.test" || ev.Object != "event" {
		t.Fatalf("answer %+v, want a hookline.test event", ev)
	}
	onlyTo(ev.ID, ep.ID)
	waitFor(t, 10*time.Second, "the test event at the chosen endpoint", func() bool { return chosen.count() == 1 })

	// Through the CLI.
	out := runCLI(t, n.URL, "endpoints", "test", ep.ID)
	m := regexp.MustCompile(`^Sent (evt_\w+) \(hookline.test\) to ` + ep.ID + `\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("endpoints test printed %q", out)
	}
	onlyTo(m[1], ep.ID)
	waitFor(t, 10*time.Second, "the second test event", func() bool { return chosen.count() == 2 })
	for i, r := range chosen.all() {
		var body struct {
			Type string `json:"type"`
			Data struct {
				EndpointID string `json:"endpoint_id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || body.Type != "hookline.test" || body.Data.EndpointID != ep.ID {
			t.Fatalf("delivery %d: %s (%v)", i, r.Body, err)
		}
	}

	// An ordinary event after them reaches the "*" endpoint, which got
	// nothing before it.
	inv := n.publish("invoice.paid", map[string]any{"n": 1})
	waitFor(t, 10*time.Second, "the ordinary event at both", func() bool { return star.count() >= 1 && chosen.count() == 3 })
	got := star.all()
	var first event
	if len(got) > 0 {
		_ = json.Unmarshal(got[0].Body, &first)
	}
	if len(got) != 1 || first.ID != inv.ID {
		t.Fatalf("the * endpoint got %d requests, first %+v; want only %s", len(got), first, inv.ID)
	}

	// A disabled endpoint would get nothing: 409; an unknown one 404.
	n.must(200, "PATCH", "/v1/endpoints/"+starEp.ID, map[string]any{"status": "disabled"}, nil)
	n.must(409, "POST", "/v1/endpoints/"+starEp.ID+"/test", nil, nil)
	n.must(404, "POST", "/v1/endpoints/ep_missing/test", nil, nil)
}
