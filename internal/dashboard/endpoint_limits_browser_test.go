package dashboard_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/internal/server"
	"github.com/hookline/hookline/internal/testutil"
)

// limitsJSON is what the API says of an endpoint's delivery limits: its
// own, or the server's defaults it takes.
type limitsJSON struct {
	ID             string  `json:"id"`
	MaxConcurrency int     `json:"max_concurrency"`
	TimeoutSeconds float64 `json:"timeout_seconds"`
	Ordering       string  `json:"ordering"`
	RateLimit      *struct {
		PerSecond float64 `json:"per_second"`
		Burst     int     `json:"burst"`
	} `json:"rate_limit"`
	CircuitBreaker struct {
		Failures int `json:"failures"`
	} `json:"circuit_breaker"`
}

func (l limitsJSON) String() string {
	rate := "none"
	if l.RateLimit != nil {
		rate = fmt.Sprintf("%g/s burst %d", l.RateLimit.PerSecond, l.RateLimit.Burst)
	}
	return fmt.Sprintf("max_concurrency %d, timeout_seconds %g, ordering %s, rate_limit %s, failures %d",
		l.MaxConcurrency, l.TimeoutSeconds, l.Ordering, rate, l.CircuitBreaker.Failures)
}

// The server defaults of limitsNode, none of them the built-in ones, so
// that an endpoint taking them is told from one that set the built-in
// value.
const (
	serverConcurrency = 7
	serverTimeout     = 9
	serverFailures    = 11
)

// limitsNode is a node whose defaults for endpoints are the ones above.
func limitsNode(t *testing.T) *node {
	t.Helper()
	n := &node{key: "hl_sk_browser_test_key_0123456789", logs: &testutil.SyncBuffer{}}
	n.base, _ = testutil.Serve(t, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, APIKey: n.key,
		RetrySchedule: []time.Duration{time.Second}, MaxConcurrency: serverConcurrency,
		Timeout: serverTimeout * time.Second, BreakerFailures: serverFailures}, n.logs)
	return n
}

// limitFields are the limit boxes of the endpoint form, by id.
var limitFields = []string{"max_concurrency", "timeout_seconds", "ordering-select", "rate_limit_per_second", "rate_limit_burst", "breaker_failures"}

// formLimits reads the limit boxes as the page shows them.
func formLimits(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	got := map[string]string{}
	actions := []chromedp.Action{chromedp.WaitVisible(`#max_concurrency`, chromedp.ByID)}
	for _, id := range limitFields {
		v := new(string)
		actions = append(actions, chromedp.Value(`#`+id, v, chromedp.ByID), chromedp.ActionFunc(func(context.Context) error {
			got[id] = *v
			return nil
		}))
	}
	run(t, ctx, "reading the limit boxes", actions...)
	return got
}

// setField types value into the box id; "" empties it.
func setField(id, value string) chromedp.Action {
	if value == "" {
		return clearField(id)
	}
	return chromedp.SetValue(`#`+id, value, chromedp.ByID)
}

// saveForm submits the endpoint form and waits for the flash of a save.
func saveForm() chromedp.Action {
	return chromedp.Tasks{
		chromedp.Click(`form.form > button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.flash`, chromedp.ByQuery),
	}
}

// TestBrowserEndpointLimits drives the endpoint forms' delivery limits in
// Chromium (issue 18): an endpoint created with every limit set, each
// limit changed alone on the edit form, every one cleared back to the
// server's defaults, and the API reporting each. The API shows an
// endpoint's limits in force, so the node's defaults differ from the
// built-in ones and the reloaded form shows the endpoint's own, blank
// where it takes the server's.
func TestBrowserEndpointLimits(t *testing.T) {
	start := time.Now()
	n := limitsNode(t)
	recv, _ := receiver(t)
	ctx := browser(t)
	dir := shots(t)

	run(t, ctx, "signing in",
		chromedp.Navigate(n.base+"/endpoints/new"),
		chromedp.WaitVisible(`#key`, chromedp.ByID),
		chromedp.SendKeys(`#key`, n.key, chromedp.ByID),
		chromedp.Submit(`#key`, chromedp.ByID),
		chromedp.WaitVisible(`#max_concurrency`, chromedp.ByID))
	if got := formLimits(t, ctx); got["max_concurrency"] != "" || got["ordering-select"] != "unordered" || got["rate_limit_per_second"] != "" {
		t.Fatalf("the new endpoint form starts with %v, want blank boxes and unordered", got)
	}

	// Create with every limit set.
	var loc string
	run(t, ctx, "creating an endpoint with limits",
		chromedp.SendKeys(`#url`, recv.URL+"/limited", chromedp.ByID),
		setField("max_concurrency", "3"), setField("timeout_seconds", "42"), setField("ordering-select", "fifo"),
		setField("rate_limit_per_second", "2.5"), setField("rate_limit_burst", "7"), setField("breaker_failures", "4"),
		saveForm(), chromedp.Location(&loc))
	loc, _, _ = strings.Cut(loc, "?")
	id := loc[strings.LastIndex(loc, "/")+1:]
	var made limitsJSON
	if code := n.api(t, "GET", "/v1/endpoints/"+id, nil, &made); code != 200 {
		t.Fatalf("GET %s: %d", id, code)
	}
	// A FIFO endpoint's max_concurrency reads 1; the form shows the 3 it
	// keeps for when it is unordered again.
	if made.MaxConcurrency != 1 || made.TimeoutSeconds != 42 || made.Ordering != "fifo" || made.RateLimit == nil ||
		made.RateLimit.PerSecond != 2.5 || made.RateLimit.Burst != 7 || made.CircuitBreaker.Failures != 4 {
		t.Fatalf("the API shows the endpoint the form made with %s", made)
	}
	want := map[string]string{"max_concurrency": "3", "timeout_seconds": "42", "ordering-select": "fifo",
		"rate_limit_per_second": "2.5", "rate_limit_burst": "7", "breaker_failures": "4"}
	if got := formLimits(t, ctx); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the edit form shows %v, want %v", got, want)
	}
	screenshot(t, ctx, dir, "limits-01-created")

	// Each limit set alone on the edit form of an endpoint that has none:
	// the API reports it and the rest stay the server's.
	var plain limitsJSON
	if code := n.api(t, "POST", "/v1/endpoints", map[string]any{"url": recv.URL + "/plain"}, &plain); code != 201 {
		t.Fatalf("creating through the API: %d", code)
	}
	defaults := func(l limitsJSON) bool {
		return l.MaxConcurrency == serverConcurrency && l.TimeoutSeconds == serverTimeout && l.Ordering == "unordered" &&
			l.RateLimit == nil && l.CircuitBreaker.Failures == serverFailures
	}
	if !defaults(plain) {
		t.Fatalf("an endpoint without limits shows %s, want the server's", plain)
	}
	for _, tc := range []struct {
		name   string
		fields map[string]string
		// set reports whether the API shows the limit set; the others
		// are then put back and checked to be the server's.
		set func(limitsJSON) bool
	}{
		{"max_concurrency", map[string]string{"max_concurrency": "250"}, func(l limitsJSON) bool { return l.MaxConcurrency == 250 }},
		{"timeout_seconds", map[string]string{"timeout_seconds": "300"}, func(l limitsJSON) bool { return l.TimeoutSeconds == 300 }},
		{"ordering fifo", map[string]string{"ordering-select": "fifo"}, func(l limitsJSON) bool { return l.Ordering == "fifo" }},
		{"rate_limit without burst", map[string]string{"rate_limit_per_second": "20"},
			func(l limitsJSON) bool {
				return l.RateLimit != nil && l.RateLimit.PerSecond == 20 && l.RateLimit.Burst == 20
			}},
		{"rate_limit with burst", map[string]string{"rate_limit_per_second": "0.5", "rate_limit_burst": "3"},
			func(l limitsJSON) bool {
				return l.RateLimit != nil && l.RateLimit.PerSecond == 0.5 && l.RateLimit.Burst == 3
			}},
		{"circuit_breaker.failures", map[string]string{"breaker_failures": "10000"}, func(l limitsJSON) bool { return l.CircuitBreaker.Failures == 10000 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			actions := []chromedp.Action{chromedp.Navigate(n.base + "/endpoints/" + plain.ID), chromedp.WaitVisible(`#max_concurrency`, chromedp.ByID)}
			for id, v := range tc.fields {
				actions = append(actions, setField(id, v))
			}
			run(t, ctx, "setting "+tc.name, append(actions, saveForm())...)
			var got limitsJSON
			n.api(t, "GET", "/v1/endpoints/"+plain.ID, nil, &got)
			if !tc.set(got) {
				t.Fatalf("after setting %v the API shows %s", tc.fields, got)
			}
			shown := formLimits(t, ctx)
			for id, v := range tc.fields {
				if shown[id] != v {
					t.Errorf("the reloaded form shows %s %q, want %q", id, shown[id], v)
				}
			}
			// Back to the server's, through the form.
			actions = actions[:2]
			for id := range tc.fields {
				actions = append(actions, setField(id, ""))
			}
			if _, ok := tc.fields["ordering-select"]; ok {
				actions = append(actions, setField("ordering-select", "unordered"))
			}
			run(t, ctx, "clearing "+tc.name, append(actions, saveForm())...)
			n.api(t, "GET", "/v1/endpoints/"+plain.ID, nil, &got)
			if !defaults(got) {
				t.Fatalf("after clearing %s the API shows %s, want the server's", tc.name, got)
			}
		})
	}

	// Clear every limit of the endpoint made with them: it takes the
	// server's again, and the form shows blank boxes. A description saved
	// alone first keeps them all.
	run(t, ctx, "saving the description alone",
		chromedp.Navigate(n.base+"/endpoints/"+id), chromedp.WaitVisible(`#description`, chromedp.ByID),
		chromedp.SendKeys(`#description`, "kept", chromedp.ByID), saveForm())
	var kept limitsJSON
	if n.api(t, "GET", "/v1/endpoints/"+id, nil, &kept); kept.String() != made.String() {
		t.Fatalf("saving the description changed the limits: %s, was %s", kept, made)
	}
	run(t, ctx, "clearing every limit",
		chromedp.Navigate(n.base+"/endpoints/"+id), chromedp.WaitVisible(`#max_concurrency`, chromedp.ByID),
		setField("max_concurrency", ""), setField("timeout_seconds", ""), setField("ordering-select", "unordered"),
		setField("rate_limit_per_second", ""), setField("rate_limit_burst", ""), setField("breaker_failures", ""),
		saveForm())
	var cleared limitsJSON
	if n.api(t, "GET", "/v1/endpoints/"+id, nil, &cleared); !defaults(cleared) {
		t.Fatalf("after clearing every limit the API shows %s, want the server's", cleared)
	}
	want = map[string]string{"max_concurrency": "", "timeout_seconds": "", "ordering-select": "unordered",
		"rate_limit_per_second": "", "rate_limit_burst": "", "breaker_failures": ""}
	if got := formLimits(t, ctx); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after clearing, the edit form shows %v, want %v", got, want)
	}
	var limits string
	run(t, ctx, "reading the limits shown", chromedp.Text(`#limits`, &limits, chromedp.ByID))
	if !strings.Contains(limits, fmt.Sprintf("At most %d deliveries in flight (the server's default)", serverConcurrency)) ||
		!strings.Contains(limits, "unordered") || strings.Contains(limits, "rate limit") {
		t.Fatalf("after clearing, the page shows the limits as %q", limits)
	}
	screenshot(t, ctx, dir, "limits-02-cleared")
	t.Logf("endpoint limits browser test took %s", time.Since(start).Round(time.Millisecond))
}

// TestBrowserEndpointLimitErrors sends one bad value per limit through the
// create or the edit form: the page shows the very error the API answers
// the same value with (message, code, param), marks the box at fault and
// keeps what was typed, and nothing is saved.
func TestBrowserEndpointLimitErrors(t *testing.T) {
	n := limitsNode(t)
	recv, _ := receiver(t)
	ctx := browser(t)
	dir := shots(t)
	var ep limitsJSON
	if code := n.api(t, "POST", "/v1/endpoints", map[string]any{"url": recv.URL + "/edited", "max_concurrency": 5}, &ep); code != 201 {
		t.Fatalf("creating through the API: %d", code)
	}
	run(t, ctx, "signing in",
		chromedp.Navigate(n.base+"/endpoints/new"),
		chromedp.WaitVisible(`#key`, chromedp.ByID),
		chromedp.SendKeys(`#key`, n.key, chromedp.ByID),
		chromedp.Submit(`#key`, chromedp.ByID),
		chromedp.WaitVisible(`#max_concurrency`, chromedp.ByID))

	for _, tc := range []struct {
		name   string
		edit   bool              // the edit form and PATCH, else create and POST
		fields map[string]string // the boxes, by id
		api    map[string]any    // the same values as the API takes them
		param  string            // what the API's error names
		marked string            // the box marked invalid
	}{
		{"negative max_concurrency", false, map[string]string{"max_concurrency": "-1"}, map[string]any{"max_concurrency": -1}, "max_concurrency", "max_concurrency"},
		{"max_concurrency above the bound", true, map[string]string{"max_concurrency": "1001"}, map[string]any{"max_concurrency": 1001}, "max_concurrency", "max_concurrency"},
		{"timeout 0", false, map[string]string{"timeout_seconds": "0"}, map[string]any{"timeout_seconds": 0}, "timeout_seconds", "timeout_seconds"},
		{"timeout above 300", true, map[string]string{"timeout_seconds": "301"}, map[string]any{"timeout_seconds": 301}, "timeout_seconds", "timeout_seconds"},
		{"unknown ordering", false, map[string]string{"ordering-select": "lifo"}, map[string]any{"ordering": "lifo"}, "ordering", "ordering-select"},
		{"rate 0", false, map[string]string{"rate_limit_per_second": "0"}, map[string]any{"rate_limit": map[string]any{"per_second": 0}}, "rate_limit.per_second", "rate_limit_per_second"},
		{"negative rate", true, map[string]string{"rate_limit_per_second": "-5"}, map[string]any{"rate_limit": map[string]any{"per_second": -5}}, "rate_limit.per_second", "rate_limit_per_second"},
		{"burst without rate", false, map[string]string{"rate_limit_burst": "5"}, map[string]any{"rate_limit": map[string]any{"burst": 5}}, "rate_limit.per_second", "rate_limit_per_second"},
		{"burst 0", true, map[string]string{"rate_limit_per_second": "10", "rate_limit_burst": "0"},
			map[string]any{"rate_limit": map[string]any{"per_second": 10, "burst": 0}}, "rate_limit.burst", "rate_limit_burst"},
		{"negative breaker failures", false, map[string]string{"breaker_failures": "-1"}, map[string]any{"circuit_breaker": map[string]any{"failures": -1}}, "circuit_breaker.failures", "breaker_failures"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want apiError
			method, path, page := "POST", "/v1/endpoints", "/endpoints/new"
			body := map[string]any{"url": recv.URL + "/new"}
			if tc.edit {
				method, path, page, body = "PATCH", "/v1/endpoints/"+ep.ID, "/endpoints/"+ep.ID, map[string]any{}
			}
			for k, v := range tc.api {
				body[k] = v
			}
			if code := n.api(t, method, path, body, &want); code != 400 || want.Error.Param != tc.param {
				t.Fatalf("the API answers %v with %d %+v, want a 400 naming %s", tc.api, code, want.Error, tc.param)
			}
			actions := []chromedp.Action{chromedp.Navigate(n.base + page), chromedp.WaitVisible(`#max_concurrency`, chromedp.ByID)}
			if !tc.edit {
				actions = append(actions, chromedp.SendKeys(`#url`, recv.URL+"/new", chromedp.ByID))
			}
			if _, ok := tc.fields["ordering-select"]; ok {
				// The select offers no such value: send one as a hand-made
				// request would, so that the server alone judges it.
				actions = append(actions, chromedp.Evaluate(`document.querySelector('#ordering-select option[value="fifo"]').value = "lifo"`, nil))
			}
			for id, v := range tc.fields {
				actions = append(actions, setField(id, v))
			}
			actions = append(actions, chromedp.Click(`form.form > button[type="submit"]`, chromedp.ByQuery))
			run(t, ctx, "sending "+tc.name, actions...)
			msg, code, param := formError(t, ctx, "reading the error of "+tc.name)
			if msg != want.Error.Message || code != want.Error.Code || param != want.Error.Param {
				t.Fatalf("the page says %q (%s, param %s); the API says %+v", msg, code, param, want.Error)
			}
			var invalid string
			var ok bool
			run(t, ctx, "reading the marked box",
				chromedp.AttributeValue(`#`+tc.marked, "aria-invalid", &invalid, &ok, chromedp.ByID))
			if invalid != "true" {
				t.Fatalf("the %s box is not marked invalid (aria-invalid=%q)", tc.marked, invalid)
			}
			for _, id := range limitFields {
				if _, typed := tc.fields[id]; typed || id == tc.marked {
					continue
				}
				run(t, ctx, "reading another box", chromedp.AttributeValue(`#`+id, "aria-invalid", &invalid, &ok, chromedp.ByID))
				if ok {
					t.Errorf("the %s box is marked invalid too", id)
				}
			}
			// The boxes keep what was typed; a select cannot show a value
			// it does not offer.
			shown := formLimits(t, ctx)
			for id, v := range tc.fields {
				if id != "ordering-select" && shown[id] != v {
					t.Errorf("after the error the %s box shows %q, want %q as typed", id, shown[id], v)
				}
			}
			if tc.name == "burst without rate" {
				screenshot(t, ctx, dir, "limits-03-error")
			}
		})
	}
	var list struct {
		Data []limitsJSON `json:"data"`
	}
	n.api(t, "GET", "/v1/endpoints", nil, &list)
	var after limitsJSON
	n.api(t, "GET", "/v1/endpoints/"+ep.ID, nil, &after)
	if len(list.Data) != 1 || after.String() != ep.String() {
		t.Fatalf("after the refused forms there are %d endpoints, the edited one %s (was %s)", len(list.Data), after, ep)
	}
}
