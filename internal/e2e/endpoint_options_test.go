package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// An endpoint's filter decides at fan-out which events it gets (a filtered
// out event makes no delivery at all); its static headers ride on every
// delivery without touching the signature, which the Standard Webhooks
// library still accepts; its retry_schedule replaces the server's, 0s
// retrying at once. Header values never reach the logs.
func TestEndpointFilterHeadersAndSchedule(t *testing.T) {
	t.Parallel()
	// The server's schedule is long: only the endpoint's own can explain a
	// retry within the test.
	n := startNode(t, t.TempDir(), "--dev", "--retry-schedule", "1h,1h", "--log-format", "json")
	rc := newReceiver(t)
	// The first request is the filtered event's; the next two fail, for
	// the retry schedule.
	rc.respond = func(i int, _ *http.Request) (int, http.Header) {
		if i == 2 || i == 3 {
			return 500, nil
		}
		return 200, nil
	}
	const token = "Bearer s3cr3t-static-token-value"
	var ep struct {
		endpoint
		Filter        json.RawMessage   `json:"filter"`
		Headers       map[string]string `json:"headers"`
		RetrySchedule []string          `json:"retry_schedule"`
	}
	n.must(201, "POST", "/v1/endpoints", map[string]any{
		"url": rc.URL + "/hook", "enabled_events": []string{"invoice.*"},
		"filter":  map[string]any{"data.amount": map[string]any{"in": []int{100, 200}}, "data.currency": map[string]any{"prefix": "eu"}},
		"headers": map[string]string{"Authorization": token, "X-Team": "billing"},
	}, &ep)
	if string(ep.Filter) != `{"data.amount":{"in":[100,200]},"data.currency":{"prefix":"eu"}}` || ep.Headers["X-Team"] != "billing" || ep.RetrySchedule != nil {
		t.Fatalf("created %+v", ep)
	}

	// The filter, tried through the API first.
	var ft struct {
		Matches bool     `json:"matches"`
		Reasons []string `json:"reasons"`
	}
	n.must(200, "POST", "/v1/filters/test", map[string]any{"filter": ep.Filter,
		"event": map[string]any{"type": "invoice.paid", "data": map[string]any{"amount": 300, "currency": "eur"}}}, &ft)
	if ft.Matches || len(ft.Reasons) != 1 || !strings.Contains(ft.Reasons[0], "data.amount is 300") {
		t.Fatalf("filter test %+v, want a miss naming data.amount", ft)
	}
	n.must(200, "POST", "/v1/filters/test", map[string]any{"filter": ep.Filter,
		"event": map[string]any{"type": "invoice.paid", "data": map[string]any{"amount": 200, "currency": "eur"}}}, &ft)
	if !ft.Matches || len(ft.Reasons) != 0 {
		t.Fatalf("filter test %+v, want a match", ft)
	}

	in := n.publish("invoice.paid", map[string]any{"amount": 100, "currency": "eur"})
	out1 := n.publish("invoice.paid", map[string]any{"amount": 300, "currency": "eur"})
	out2 := n.publish("invoice.paid", map[string]any{"amount": 100, "currency": "usd"})
	waitFor(t, 10*time.Second, "the matching event", func() bool { return rc.count() >= 1 })
	for _, ev := range []event{out1, out2} {
		var l struct {
			Data []json.RawMessage `json:"data"`
		}
		n.must(200, "GET", "/v1/events/"+ev.ID+"/deliveries", nil, &l)
		if len(l.Data) != 0 {
			t.Errorf("filtered-out event %s has deliveries: %s", ev.ID, l.Data)
		}
	}
	got := rc.all()[0]
	if got.Header.Get("Authorization") != token || got.Header.Get("X-Team") != "billing" {
		t.Fatalf("static headers missing: %v", got.Header)
	}
	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got.Body, got.Header); err != nil {
		t.Fatalf("the Standard Webhooks library rejects a delivery with static headers: %v", err)
	}
	if !strings.Contains(string(got.Body), in.ID) {
		t.Fatalf("delivered %s, want %s", got.Body, in.ID)
	}

	// The endpoint's schedule: fail twice, retried at once and after 1 s.
	n.must(200, "PATCH", "/v1/endpoints/"+ep.ID, map[string]any{"retry_schedule": []string{"0s", "1s"}, "filter": nil}, &ep)
	if strings.Join(ep.RetrySchedule, ",") != "0s,1s" || ep.Filter != nil && string(ep.Filter) != "null" {
		t.Fatalf("updated %+v", ep)
	}
	ev := n.publish("invoice.created", map[string]any{"amount": 1})
	waitFor(t, 15*time.Second, "three attempts", func() bool { return len(n.attempts("/v1/events/"+ev.ID+"/attempts")) >= 3 })
	as := n.attempts("/v1/events/" + ev.ID + "/attempts") // newest first
	if len(as) != 3 || as[0].ResponseStatus != 200 || as[2].ResponseStatus != 500 {
		t.Fatalf("attempts %+v", as)
	}

	if logs := n.stderr.String(); strings.Contains(logs, "s3cr3t") {
		t.Fatalf("a static header value reached the logs:\n%s", logs)
	}
}
