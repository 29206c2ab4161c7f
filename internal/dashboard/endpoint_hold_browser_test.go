package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserEndpointHold: a receiver answers 429 with Retry-After, and
// the endpoint page shows the hold, at the time the API's held_until
// says (issue 18); an endpoint not held shows none.
func TestBrowserEndpointHold(t *testing.T) {
	n := limitsNode(t)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(slow.Close)
	recv, _ := receiver(t)
	type held struct {
		ID        string `json:"id"`
		HeldUntil *int64 `json:"held_until"`
	}
	var ep, calm held
	if code := n.api(t, "POST", "/v1/endpoints", map[string]any{"url": slow.URL, "enabled_events": []string{"slow.*"}}, &ep); code != 201 {
		t.Fatalf("creating the endpoint: %d", code)
	}
	if code := n.api(t, "POST", "/v1/endpoints", map[string]any{"url": recv.URL, "enabled_events": []string{"calm.*"}}, &calm); code != 201 {
		t.Fatalf("creating the endpoint: %d", code)
	}
	if code := n.api(t, "POST", "/v1/events", map[string]any{"type": "slow.tick", "data": map[string]any{"i": 1}}, nil); code != 201 {
		t.Fatalf("publishing: %d", code)
	}
	deadline := time.Now().Add(20 * time.Second)
	for n.api(t, "GET", "/v1/endpoints/"+ep.ID, nil, &ep); ep.HeldUntil == nil; n.api(t, "GET", "/v1/endpoints/"+ep.ID, nil, &ep) {
		if time.Now().After(deadline) {
			t.Fatal("no held_until 20 s after publishing to an endpoint answering 429")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx := browser(t)
	var shown, calmLimits string
	run(t, ctx, "reading the hold shown",
		chromedp.Navigate(n.base+"/endpoints/"+ep.ID),
		chromedp.WaitVisible(`#key`, chromedp.ByID),
		chromedp.SendKeys(`#key`, n.key, chromedp.ByID),
		chromedp.Submit(`#key`, chromedp.ByID),
		chromedp.WaitVisible(`#held-until`, chromedp.ByID),
		chromedp.Text(`#held-until`, &shown, chromedp.ByID),
		chromedp.Navigate(n.base+"/endpoints/"+calm.ID),
		chromedp.WaitVisible(`#limits`, chromedp.ByID),
		chromedp.Text(`#limits`, &calmLimits, chromedp.ByID))
	if want := time.Unix(*ep.HeldUntil, 0).UTC().Format("2006-01-02 15:04:05Z"); shown != want {
		t.Fatalf("the page shows the hold until %q, want the API's held_until %s", shown, want)
	}
	if strings.Contains(calmLimits, "held") {
		t.Fatalf("an endpoint not held shows %q", calmLimits)
	}
}
