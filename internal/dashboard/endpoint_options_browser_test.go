package dashboard_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/webhook"
)

// endpointJSON is what the API says of an endpoint's delivery options.
type endpointJSON struct {
	ID              string            `json:"id"`
	SignatureScheme string            `json:"signature_scheme"`
	Signing         string            `json:"signing"`
	PublicKey       string            `json:"public_key"`
	KeySet          string            `json:"key_set"`
	Filter          json.RawMessage   `json:"filter"`
	Headers         map[string]string `json:"headers"`
	RetrySchedule   []string          `json:"retry_schedule"`
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param"`
	} `json:"error"`
}

// formError reads the error the page shows: the alert's message, and the
// code and param beside the form.
func formError(t *testing.T, ctx context.Context, what string) (msg, code, param string) {
	t.Helper()
	run(t, ctx, what,
		chromedp.WaitVisible(`p.error`, chromedp.ByQuery),
		chromedp.Text(`p.error`, &msg, chromedp.ByQuery),
		chromedp.Text(`#form-error-detail code`, &code, chromedp.ByQuery),
		chromedp.Text(`#form-error-param`, &param, chromedp.ByID))
	return msg, code, param
}

// TestBrowserEndpointOptions drives the endpoint forms in Chromium: an
// invalid filter refused with the API's own error, a filter tried on a
// sample event, an endpoint made with a filter, static headers, a retry
// schedule and ed25519 signing that the API then reports and deliveries
// carry, and an edit that replaces and removes headers, returns to the
// server's schedule and switches back to HMAC.
func TestBrowserEndpointOptions(t *testing.T) {
	start := time.Now()
	n := startNode(t)
	recv, got := captureServer(t)
	ctx := browser(t)
	dir := shots(t)

	run(t, ctx, "signing in",
		chromedp.Navigate(n.base+"/endpoints/new"),
		chromedp.WaitVisible(`#key`, chromedp.ByID),
		chromedp.SendKeys(`#key`, n.key, chromedp.ByID),
		chromedp.Submit(`#key`, chromedp.ByID),
		chromedp.WaitVisible(`#filter`, chromedp.ByID))

	// An invalid filter: the page shows what the API answers for it.
	const badFilter = `{"data.amount": {"gte": 100}}`
	var want apiError
	if code := n.api(t, "POST", "/v1/endpoints", map[string]any{"url": recv.URL, "filter": json.RawMessage(badFilter)}, &want); code != 400 {
		t.Fatalf("the API takes filter %s: %d", badFilter, code)
	}
	run(t, ctx, "filling the form with a bad filter",
		chromedp.SendKeys(`#url`, recv.URL+"/hooks", chromedp.ByID),
		chromedp.SetValue(`#filter`, badFilter, chromedp.ByID),
		chromedp.Submit(`#url`, chromedp.ByID))
	msg, code, param := formError(t, ctx, "reading the filter's error")
	if msg != want.Error.Message || code != want.Error.Code || param != "filter" || want.Error.Param != "filter" {
		t.Fatalf("the page says %q (%s, param %s); the API says %+v", msg, code, param, want.Error)
	}
	var invalid, url string
	run(t, ctx, "reading the marked field",
		chromedp.AttributeValue(`#filter`, "aria-invalid", &invalid, nil, chromedp.ByID),
		chromedp.Value(`#url`, &url, chromedp.ByID))
	if invalid != "true" || url != recv.URL+"/hooks" {
		t.Fatalf("after the error the filter field is aria-invalid=%q and the url %q", invalid, url)
	}
	screenshot(t, ctx, dir, "options-01-bad-filter")

	// Test filter: the sample event fails the filter, and says why;
	// nothing is saved.
	const filter = `{"data.amount": {"in": [100, 200]}, "type": {"prefix": "order."}}`
	var verdict string
	run(t, ctx, "testing the filter",
		chromedp.SetValue(`#filter`, filter, chromedp.ByID),
		chromedp.Click(`details.filter-test summary`, chromedp.ByQuery),
		chromedp.SetValue(`#test_type`, "order.created", chromedp.ByID),
		chromedp.SetValue(`#test_data`, `{"amount": 5}`, chromedp.ByID),
		chromedp.Click(`button[formaction="/endpoints/filter-test"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#filter-verdict.bad`, chromedp.ByQuery),
		chromedp.Text(`#filter-verdict`, &verdict, chromedp.ByQuery))
	if !strings.Contains(verdict, "data.amount") || strings.Contains(verdict, "type") {
		t.Fatalf("the verdict on amount 5 says %q, want data.amount alone named", verdict)
	}
	// An empty box saves no filter, so tried it takes the sample the
	// filter refused (the API's filters/test would refuse it instead).
	// Each step waits for a verdict other than the page's last, so that
	// it sees the page the click brought.
	run(t, ctx, "testing an empty filter box",
		clearField("filter"),
		chromedp.Click(`button[formaction="/endpoints/filter-test"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#filter-verdict.ok`, chromedp.ByQuery))
	run(t, ctx, "testing the filter again",
		chromedp.SetValue(`#filter`, filter, chromedp.ByID),
		chromedp.Click(`button[formaction="/endpoints/filter-test"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#filter-verdict.bad`, chromedp.ByQuery))
	run(t, ctx, "testing a matching event",
		chromedp.SetValue(`#test_data`, `{"amount": 200}`, chromedp.ByID),
		chromedp.Click(`button[formaction="/endpoints/filter-test"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#filter-verdict.ok`, chromedp.ByQuery))
	// A sample whose data is no object: the app's error, naming it.
	run(t, ctx, "testing a sample that is not an object",
		chromedp.SetValue(`#test_data`, `[1, 2]`, chromedp.ByID),
		chromedp.Click(`button[formaction="/endpoints/filter-test"]`, chromedp.ByQuery))
	if _, code, param = formError(t, ctx, "reading the sample's error"); code != "invalid_request" || param != "event.data" {
		t.Fatalf("a sample that is not an object: %s naming %q", code, param)
	}
	run(t, ctx, "reading the marked sample", chromedp.AttributeValue(`#test_data`, "aria-invalid", &invalid, nil, chromedp.ByID))
	if invalid != "true" {
		t.Fatalf("the sample's data box is aria-invalid=%q", invalid)
	}
	var list struct {
		Data []endpointJSON `json:"data"`
	}
	if n.api(t, "GET", "/v1/endpoints", nil, &list); len(list.Data) != 0 {
		t.Fatalf("testing a filter saved %d endpoints", len(list.Data))
	}
	screenshot(t, ctx, dir, "options-02-filter-test")

	// Create with a filter, headers, a retry schedule and ed25519.
	const basic, token = "Basic dXNlcjpodW50ZXIy", "tok-9f8e7d6c"
	var loc string
	run(t, ctx, "creating the endpoint",
		chromedp.SetValue(`#add_headers`, "Authorization: "+basic+"\nX-Api-Token: "+token, chromedp.ByID),
		chromedp.SetValue(`#retry_schedule`, "0s, 1m,10m", chromedp.ByID),
		chromedp.Click(`input[name="signing"][value="ed25519"]`, chromedp.ByQuery),
		chromedp.Click(`form.form > button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.flash`, chromedp.ByQuery),
		chromedp.Location(&loc))
	loc, _, _ = strings.Cut(loc, "?")
	id := loc[strings.LastIndex(loc, "/")+1:]
	var ep endpointJSON
	if code := n.api(t, "GET", "/v1/endpoints/"+id, nil, &ep); code != 200 {
		t.Fatalf("GET %s: %d", id, code)
	}
	var compact map[string]any
	_ = json.Unmarshal(ep.Filter, &compact)
	if ep.Signing != "ed25519" || !strings.HasPrefix(ep.PublicKey, "whpk_") || len(compact) != 2 ||
		len(ep.Headers) != 2 || ep.Headers["Authorization"] != basic || ep.Headers["X-Api-Token"] != token ||
		strings.Join(ep.RetrySchedule, ",") != "0s,1m0s,10m0s" {
		t.Fatalf("the API shows the endpoint made by the form as %+v (filter %s)", ep, ep.Filter)
	}

	// The page shows the options, the headers by name only.
	var html, shownKey, shownKeySet, retry string
	run(t, ctx, "reading the endpoint page",
		chromedp.WaitVisible(`#delivery-options`, chromedp.ByID),
		chromedp.OuterHTML(`html`, &html, chromedp.ByQuery),
		chromedp.Text(`#public-key`, &shownKey, chromedp.ByID),
		chromedp.Text(`#key-set`, &shownKeySet, chromedp.ByID),
		chromedp.Text(`#view-retry`, &retry, chromedp.ByID))
	if strings.Contains(html, "dXNlcjpodW50ZXIy") || strings.Contains(html, token) {
		t.Fatal("the endpoint page shows a static header's value")
	}
	if !strings.Contains(html, "X-Api-Token") || !strings.Contains(html, "data.amount") || retry != "0s, 1m0s, 10m0s" || shownKey != ep.PublicKey ||
		!strings.HasPrefix(ep.KeySet, "ks_") || shownKeySet != ep.KeySet+"." {
		t.Fatalf("the endpoint page: retry %q, public key %q, key set %q (the API's %q), headers or filter missing", retry, shownKey, shownKeySet, ep.KeySet)
	}
	screenshot(t, ctx, dir, "options-03-endpoint")

	// Deliveries: the filter lets amount 100 through and not 5; the one
	// delivered carries the static headers and a v1a signature that the
	// public key verifies.
	for _, amount := range []int{5, 100} {
		if code := n.api(t, "POST", "/v1/events", map[string]any{"type": "order.created", "data": map[string]any{"amount": amount}}, nil); code != 201 {
			t.Fatalf("publishing: %d", code)
		}
	}
	waitFor(t, func() bool { return len(got.all()) >= 1 })
	time.Sleep(300 * time.Millisecond) // room for a wrongly delivered second one to show
	reqs := got.all()
	if len(reqs) != 1 || !strings.Contains(reqs[0].body, `"amount":100`) {
		t.Fatalf("the receiver got %d requests (first %+v), want the amount 100 event alone", len(reqs), reqs)
	}
	h := reqs[0].header
	if h.Get("Authorization") != basic || h.Get("X-Api-Token") != token || !strings.Contains(h.Get("Webhook-Signature"), "v1a,") {
		t.Fatalf("delivery headers: %v", h)
	}
	v, err := webhook.NewVerifier(ep.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(h, []byte(reqs[0].body)); err != nil {
		t.Fatalf("the delivery does not verify with the public key the page shows: %v", err)
	}

	// Edit: an invalid header name is the app's error naming it.
	run(t, ctx, "adding a bad header",
		chromedp.SetValue(`#add_headers`, "Bad Name: x", chromedp.ByID),
		chromedp.Click(`form.form > button[type="submit"]`, chromedp.ByQuery))
	msg, _, param = formError(t, ctx, "reading the header's error")
	if param != "headers[Bad Name]" || !strings.Contains(msg, "Bad Name") {
		t.Fatalf("a bad header name: %q, param %q", msg, param)
	}
	// The Stripe scheme alone on an ed25519 endpoint: refused naming the
	// field changed, as the API does.
	run(t, ctx, "choosing the Stripe scheme",
		forgetError(),
		clearField("add_headers"),
		chromedp.Click(`input[name="scheme"][value="stripe"]`, chromedp.ByQuery),
		chromedp.Click(`form.form > button[type="submit"]`, chromedp.ByQuery))
	if _, _, param = formError(t, ctx, "reading the scheme's error"); param != "signature_scheme" {
		t.Fatalf("Stripe on an ed25519 endpoint names %q", param)
	}

	// Replace one header, remove the other, back to the server's
	// schedule, no filter, and switch to HMAC.
	run(t, ctx, "editing",
		chromedp.Click(`input[name="scheme"][value="standard"]`, chromedp.ByQuery),
		chromedp.Click(`input[name="remove_header"][value="X-Api-Token"]`, chromedp.ByQuery),
		chromedp.SetValue(`#add_headers`, "Authorization: Bearer new-token", chromedp.ByID),
		clearField("retry_schedule"),
		clearField("filter"),
		chromedp.Click(`input[name="signing"][value="hmac"]`, chromedp.ByQuery),
		chromedp.Click(`form.form > button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.flash`, chromedp.ByQuery))
	var flash string
	run(t, ctx, "reading the flash", chromedp.Text(`p.flash`, &flash, chromedp.ByQuery))
	var after endpointJSON
	n.api(t, "GET", "/v1/endpoints/"+id, nil, &after)
	if after.Signing != "hmac" || after.PublicKey != "" || after.RetrySchedule != nil || string(after.Filter) != "null" ||
		len(after.Headers) != 1 || after.Headers["Authorization"] != "Bearer new-token" || !strings.Contains(flash, "hmac") {
		t.Fatalf("after the edit the API shows %+v (filter %s); flash %q", after, after.Filter, flash)
	}
	screenshot(t, ctx, dir, "options-04-edited")

	// Saving the form unchanged but for the description keeps what the
	// API set: no retries, a filter, ed25519, headers whose values never
	// reached the page.
	var made endpointJSON
	if code := n.api(t, "POST", "/v1/endpoints", map[string]any{"url": recv.URL + "/other", "retry_schedule": []string{},
		"filter": json.RawMessage(`{"tenant": "acme"}`), "signing": "ed25519", "headers": map[string]string{"X-Key": "k-123"}}, &made); code != 201 {
		t.Fatalf("creating through the API: %d", code)
	}
	var overflow bool
	run(t, ctx, "saving the description alone, in a narrow window",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(n.base+"/endpoints/"+made.ID),
		chromedp.WaitVisible(`#description`, chromedp.ByID),
		chromedp.Evaluate(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &overflow),
		chromedp.Text(`#view-retry`, &retry, chromedp.ByID),
		chromedp.SendKeys(`#description`, "kept", chromedp.ByID),
		chromedp.Click(`form.form > button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.flash`, chromedp.ByQuery),
		chromedp.EmulateViewport(1280, 900))
	if overflow || retry != "no retries" {
		t.Fatalf("the endpoint page scrolls sideways in 390 px: %v; shows the retry schedule as %q", overflow, retry)
	}
	var kept endpointJSON
	n.api(t, "GET", "/v1/endpoints/"+made.ID, nil, &kept)
	if kept.RetrySchedule == nil || len(kept.RetrySchedule) != 0 || string(kept.Filter) != `{"tenant":"acme"}` ||
		kept.Signing != "ed25519" || kept.PublicKey != made.PublicKey || kept.Headers["X-Key"] != "k-123" {
		t.Fatalf("saving the description changed the endpoint: %+v (filter %s), was %+v", kept, kept.Filter, made)
	}
	t.Logf("endpoint options browser test took %s", time.Since(start).Round(time.Millisecond))
}

// clearField empties a form field (chromedp.SetValue cannot set "").
func clearField(id string) chromedp.Action {
	return chromedp.Evaluate(`document.getElementById(`+strconv.Quote(id)+`).value = ""`, nil)
}

// forgetError removes the error the page shows, so that waiting for one
// after a submit waits for the next page's rather than finding this one.
func forgetError() chromedp.Action {
	return chromedp.Evaluate(`document.querySelector("p.error").remove()`, nil)
}
