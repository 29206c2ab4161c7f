package dashboard_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// sourceJSON is what the API says of a source's limits.
type sourceJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Limits struct {
		AllowedIPs        []string `json:"allowed_ips"`
		RequestsPerMinute int      `json:"requests_per_minute"`
		BytesPerDay       int64    `json:"bytes_per_day"`
	} `json:"limits"`
}

func (s sourceJSON) limits() string {
	return fmt.Sprintf("allowed_ips %v, requests_per_minute %d, bytes_per_day %d",
		s.Limits.AllowedIPs, s.Limits.RequestsPerMinute, s.Limits.BytesPerDay)
}

// sourceLimitFields are the limit boxes of the source forms, by id.
var sourceLimitFields = []string{"allowed_ips", "requests_per_minute", "bytes_per_day"}

// sourceFormLimits reads the source limit boxes as the page shows them.
func sourceFormLimits(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	got := map[string]string{}
	actions := []chromedp.Action{chromedp.WaitVisible(`#requests_per_minute`, chromedp.ByID)}
	for _, id := range sourceLimitFields {
		v := new(string)
		actions = append(actions, chromedp.Value(`#`+id, v, chromedp.ByID), chromedp.ActionFunc(func(context.Context) error {
			got[id] = *v
			return nil
		}))
	}
	run(t, ctx, "reading the source limit boxes", actions...)
	return got
}

// The submit buttons of the new-source form and of the limits form on a
// source's page.
const (
	createSourceButton = `form[action="/sources"] button[type="submit"]`
	saveLimitsButton   = `#limits-form button[type="submit"]`
)

// TestBrowserSourceLimits drives the source forms' limits in Chromium
// (issue 20): a source created with every limit set, the limits edited on
// its page, every box cleared to remove them, the API reporting each step
// and the page showing the limits in force; then one bad value per box,
// through the create or the edit form, answered with the very error the
// API gives the same value (message, code, param), the box at fault
// marked and what was typed kept, and nothing saved.
func TestBrowserSourceLimits(t *testing.T) {
	start := time.Now()
	n := startNode(t)
	ctx := browser(t)
	dir := shots(t)

	run(t, ctx, "signing in",
		chromedp.Navigate(n.base+"/sources/new"),
		chromedp.WaitVisible(`#key`, chromedp.ByID),
		chromedp.SendKeys(`#key`, n.key, chromedp.ByID),
		chromedp.Submit(`#key`, chromedp.ByID),
		chromedp.WaitVisible(`#requests_per_minute`, chromedp.ByID))
	blank := map[string]string{"allowed_ips": "", "requests_per_minute": "", "bytes_per_day": ""}
	if got := sourceFormLimits(t, ctx); fmt.Sprint(got) != fmt.Sprint(blank) {
		t.Fatalf("the new source form starts with %v, want blank boxes", got)
	}

	// Create with every limit set.
	var loc string
	run(t, ctx, "creating a source with limits",
		chromedp.SendKeys(`#name`, "shop", chromedp.ByID),
		setField("allowed_ips", "192.0.2.0/24\n198.51.100.7"), setField("requests_per_minute", "60"),
		setField("bytes_per_day", "1048576"),
		chromedp.Click(createSourceButton, chromedp.ByQuery), chromedp.WaitVisible(`p.flash`, chromedp.ByQuery),
		chromedp.Location(&loc))
	loc, _, _ = strings.Cut(loc, "?")
	id := loc[strings.LastIndex(loc, "/")+1:]
	if !strings.HasPrefix(id, "src_") {
		t.Fatalf("creating went to %s, not a source's page", loc)
	}
	var got sourceJSON
	if code := n.api(t, "GET", "/v1/sources/"+id, nil, &got); code != 200 {
		t.Fatalf("GET %s: %d", id, code)
	}
	if !slices.Equal(got.Limits.AllowedIPs, []string{"192.0.2.0/24", "198.51.100.7"}) || got.Limits.RequestsPerMinute != 60 || got.Limits.BytesPerDay != 1048576 {
		t.Fatalf("the API shows the source the form made with %s", got.limits())
	}
	shown := func(what string) string {
		var s string
		run(t, ctx, what, chromedp.Text(`#limits`, &s, chromedp.ByID))
		return s
	}
	if s := shown("reading the limits shown"); s != "From 192.0.2.0/24, 198.51.100.7 · rate limit 60 requests a minute · quota 1.0 MiB a day (1048576 bytes)" {
		t.Fatalf("the source's page shows its limits as %q", s)
	}
	want := map[string]string{"allowed_ips": "192.0.2.0/24\n198.51.100.7", "requests_per_minute": "60", "bytes_per_day": "1048576"}
	if got := sourceFormLimits(t, ctx); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the limits form shows %q, want %q", got, want)
	}
	screenshot(t, ctx, dir, "source-limits-01-created")

	// Edit: another address list and rate, the quota kept. Each edit
	// starts from the page without a flash, so that waiting for one waits
	// for the save's.
	sourcePage := chromedp.Tasks{chromedp.Navigate(n.base + "/sources/" + id), chromedp.WaitVisible(`#requests_per_minute`, chromedp.ByID)}
	run(t, ctx, "editing the limits", sourcePage,
		setField("allowed_ips", "203.0.113.0/24, 2001:db8::1"), setField("requests_per_minute", "120"),
		chromedp.Click(saveLimitsButton, chromedp.ByQuery), chromedp.WaitVisible(`p.flash`, chromedp.ByQuery))
	got = sourceJSON{}
	n.api(t, "GET", "/v1/sources/"+id, nil, &got)
	if !slices.Equal(got.Limits.AllowedIPs, []string{"203.0.113.0/24", "2001:db8::1"}) || got.Limits.RequestsPerMinute != 120 || got.Limits.BytesPerDay != 1048576 {
		t.Fatalf("after the edit the API shows %s", got.limits())
	}
	if s := shown("reading the edited limits"); s != "From 203.0.113.0/24, 2001:db8::1 · rate limit 120 requests a minute · quota 1.0 MiB a day (1048576 bytes)" {
		t.Fatalf("after the edit the page shows %q", s)
	}

	// One box cleared alone: that limit goes, the others stay.
	run(t, ctx, "clearing the addresses", sourcePage,
		setField("allowed_ips", ""),
		chromedp.Click(saveLimitsButton, chromedp.ByQuery), chromedp.WaitVisible(`p.flash`, chromedp.ByQuery))
	got = sourceJSON{} // absent fields would keep the last answer's
	n.api(t, "GET", "/v1/sources/"+id, nil, &got)
	if len(got.Limits.AllowedIPs) != 0 || got.Limits.RequestsPerMinute != 120 || got.Limits.BytesPerDay != 1048576 {
		t.Fatalf("after clearing the addresses the API shows %s", got.limits())
	}

	// Every box cleared: no limits of its own.
	run(t, ctx, "clearing every limit", sourcePage,
		setField("requests_per_minute", ""), setField("bytes_per_day", ""),
		chromedp.Click(saveLimitsButton, chromedp.ByQuery), chromedp.WaitVisible(`p.flash`, chromedp.ByQuery))
	var raw map[string]any
	n.api(t, "GET", "/v1/sources/"+id, nil, &raw)
	if l, ok := raw["limits"].(map[string]any); !ok || len(l) != 0 {
		t.Fatalf("after clearing every box the API shows limits %v, want {}", raw["limits"])
	}
	if got := sourceFormLimits(t, ctx); fmt.Sprint(got) != fmt.Sprint(blank) {
		t.Fatalf("after clearing, the limits form shows %v, want blank boxes", got)
	}
	if s := shown("reading the cleared limits"); s != "From any address · rate limit the server's default · quota the server's default" {
		t.Fatalf("after clearing, the page shows %q", s)
	}
	screenshot(t, ctx, dir, "source-limits-02-cleared")

	// One bad value per box, each answered as the API answers it.
	var edited sourceJSON
	if code := n.api(t, "POST", "/v1/sources", map[string]any{"name": "edited", "type": "none", "limits": map[string]any{"requests_per_minute": 5}}, &edited); code != 201 {
		t.Fatalf("creating through the API: %d", code)
	}
	for _, tc := range []struct {
		name   string
		edit   bool // the edit form and PATCH, else create and POST
		box    string
		typed  string
		limits map[string]any // the same value as the API takes it
	}{
		{"an address that is none", true, "allowed_ips", "192.0.2.0/24\nnope", map[string]any{"allowed_ips": []string{"192.0.2.0/24", "nope"}}},
		{"an address out of range", false, "allowed_ips", "300.1.1.1", map[string]any{"allowed_ips": []string{"300.1.1.1"}}},
		{"a negative rate", false, "requests_per_minute", "-1", map[string]any{"requests_per_minute": -1}},
		// (A fraction the browser refuses itself: the box takes whole numbers.)
		{"a negative rate on the edit form", true, "requests_per_minute", "-7", map[string]any{"requests_per_minute": -7}},
		{"a negative quota", true, "bytes_per_day", "-5", map[string]any{"bytes_per_day": -5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method, path, page, button := "POST", "/v1/sources", "/sources/new", createSourceButton
			body := map[string]any{"name": "refused", "type": "none", "limits": tc.limits}
			if tc.edit {
				method, path, page, button = "PATCH", "/v1/sources/"+edited.ID, "/sources/"+edited.ID, saveLimitsButton
				body = map[string]any{"limits": tc.limits}
			}
			var want apiError
			if code := n.api(t, method, path, body, &want); code != 400 || !strings.HasPrefix(want.Error.Param, "limits.") {
				t.Fatalf("the API answers %v with %d %+v, want a 400 naming a limit", tc.limits, code, want.Error)
			}
			actions := []chromedp.Action{chromedp.Navigate(n.base + page), chromedp.WaitVisible(`#requests_per_minute`, chromedp.ByID)}
			if !tc.edit {
				actions = append(actions, chromedp.SendKeys(`#name`, "refused", chromedp.ByID))
			}
			actions = append(actions, setField(tc.box, tc.typed), chromedp.Click(button, chromedp.ByQuery))
			run(t, ctx, "sending "+tc.name, actions...)
			msg, code, param := formError(t, ctx, "reading the error of "+tc.name)
			if msg != want.Error.Message || code != want.Error.Code || param != want.Error.Param {
				t.Fatalf("the page says %q (%s, param %s); the API says %+v", msg, code, param, want.Error)
			}
			// The box at fault is marked and has the message under it; the
			// others have neither.
			for _, id := range sourceLimitFields {
				var invalid, under string
				var ok bool
				var errors int
				run(t, ctx, "reading the marks",
					chromedp.AttributeValue(`#`+id, "aria-invalid", &invalid, &ok, chromedp.ByID),
					chromedp.Evaluate(`document.querySelectorAll("#`+id+`-error").length`, &errors))
				if id == tc.box {
					run(t, ctx, "reading the message under the box", chromedp.Text(`#`+id+`-error`, &under, chromedp.ByID))
					if invalid != "true" || under != want.Error.Message {
						t.Errorf("the %s box is marked %q with %q under it; want it marked, with the API's %q", id, invalid, under, want.Error.Message)
					}
				} else if ok || errors != 0 {
					t.Errorf("the %s box is marked invalid too (aria-invalid=%q, %d messages under it)", id, invalid, errors)
				}
			}
			if got := sourceFormLimits(t, ctx)[tc.box]; got != tc.typed {
				t.Errorf("after the error the %s box shows %q, want %q as typed", tc.box, got, tc.typed)
			}
			if tc.name == "an address that is none" {
				screenshot(t, ctx, dir, "source-limits-03-error")
			}
		})
	}
	var after sourceJSON
	n.api(t, "GET", "/v1/sources/"+edited.ID, nil, &after)
	if after.limits() != edited.limits() {
		t.Fatalf("after the refused forms the edited source has %s, was %s", after.limits(), edited.limits())
	}
	if code := n.api(t, "GET", "/v1/sources/refused", nil, nil); code != 404 {
		t.Fatalf("a refused new source was stored: GET answers %d", code)
	}
	t.Logf("source limits browser test took %s", time.Since(start).Round(time.Millisecond))
}
