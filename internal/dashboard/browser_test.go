package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/server"
	"github.com/hookline/hookline/internal/testutil"
)

// chromium is Debian's Chromium; scripts/ensure-chromium.sh installs it.
const chromium = "/usr/bin/chromium"

// node is a real `hookline serve` (server.Run) on a free port.
type node struct {
	base string
	key  string
	logs *testutil.SyncBuffer
}

// startNode runs server.Run until the test ends, logging JSON into a
// buffer, and returns once it listens.
func startNode(t *testing.T) *node {
	t.Helper()
	n := &node{key: "hl_sk_browser_test_key_0123456789", logs: &testutil.SyncBuffer{}}
	n.base, _ = testutil.Serve(t, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, APIKey: n.key,
		RetrySchedule: []time.Duration{time.Second}}, n.logs)
	return n
}

// api calls the HTTP API with the admin key and decodes the JSON answer.
func (n *node) api(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, n.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+n.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if os.Getenv("DEBUG_API") != "" {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// receiver is a webhook receiver on loopback that answers 200.
func receiver(t *testing.T) (*httptest.Server, func() int) {
	var mu sync.Mutex
	count := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		count++
		mu.Unlock()
		time.Sleep(15 * time.Millisecond) // a measurable latency for the charts
		fmt.Fprint(w, `{"received":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return count }
}

// browser starts headless Chromium. Without it the test fails, rather
// than skipping silently: run scripts/ensure-chromium.sh.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("Chromium is missing (%v): run scripts/ensure-chromium.sh", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 80*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	// Accept confirm() dialogs (rotate secret asks first).
	chromedp.ListenTarget(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go func() { _ = chromedp.Run(ctx, page.HandleJavaScriptDialog(true)) }()
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// shots is where screenshots go: $HOOKLINE_SCREENSHOTS, or the test's
// temporary directory.
func shots(t *testing.T) string {
	if d := os.Getenv("HOOKLINE_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestBrowser(t *testing.T) {
	start := time.Now()
	n := startNode(t)
	recv, received := receiver(t)
	ctx := browser(t)
	dir := shots(t)
	t.Logf("screenshots in %s", dir)

	// Signing in: an unauthenticated visit lands on the sign-in page; a
	// wrong key is refused; the right one opens the overview.
	var title string
	run(t, ctx, "opening the dashboard",
		chromedp.Navigate(n.base+"/endpoints"),
		chromedp.WaitVisible(`#key`, chromedp.ByID),
		chromedp.Title(&title))
	if !strings.HasPrefix(title, "Sign in") {
		t.Fatalf("unauthenticated visit shows %q", title)
	}
	screenshot(t, ctx, dir, "01-login")
	var errText string
	run(t, ctx, "signing in with a wrong key",
		chromedp.SendKeys(`#key`, "hl_sk_wrong_key_wrong_key", chromedp.ByID),
		chromedp.Submit(`#key`, chromedp.ByID),
		chromedp.WaitVisible(`p.error`, chromedp.ByQuery),
		chromedp.Text(`p.error`, &errText, chromedp.ByQuery))
	if !strings.Contains(errText, "not the admin API key") {
		t.Fatalf("wrong key: %q", errText)
	}
	var loc string
	run(t, ctx, "signing in",
		chromedp.SetValue(`#key`, n.key, chromedp.ByID),
		chromedp.Submit(`#key`, chromedp.ByID),
		chromedp.WaitVisible(`a.button[href="/endpoints/new"]`, chromedp.ByQuery),
		chromedp.Location(&loc))
	if !strings.HasSuffix(loc, "/endpoints") {
		t.Fatalf("after sign-in at %s, want the page asked for", loc)
	}

	// Creating an endpoint through the form.
	run(t, ctx, "creating an endpoint",
		chromedp.Click(`a.button[href="/endpoints/new"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#url`, chromedp.ByID),
		chromedp.SendKeys(`#url`, recv.URL+"/hooks", chromedp.ByID),
		chromedp.SetValue(`#events`, "order.*", chromedp.ByID),
		chromedp.SendKeys(`#description`, "Orders service", chromedp.ByID))
	screenshot(t, ctx, dir, "02-endpoint-new")
	run(t, ctx, "submitting the endpoint",
		chromedp.Submit(`#url`, chromedp.ByID),
		chromedp.WaitVisible(`p.flash`, chromedp.ByQuery),
		chromedp.Location(&loc))
	loc, _, _ = strings.Cut(loc, "?")
	epID := loc[strings.LastIndex(loc, "/")+1:]
	if !strings.HasPrefix(epID, "ep_") {
		t.Fatalf("after create at %s", loc)
	}
	var ep struct {
		URL           string   `json:"url"`
		EnabledEvents []string `json:"enabled_events"`
		Description   string   `json:"description"`
	}
	if code := n.api(t, "GET", "/v1/endpoints/"+epID, nil, &ep); code != 200 || ep.URL != recv.URL+"/hooks" ||
		len(ep.EnabledEvents) != 1 || ep.EnabledEvents[0] != "order.*" || ep.Description != "Orders service" {
		t.Fatalf("the API shows the endpoint as %d %+v", code, ep)
	}

	// The page shows the concurrency and timeout in force: the server's
	// until the endpoint has its own (issue 18).
	var conc, timeout string
	run(t, ctx, "reading the endpoint's limits",
		chromedp.Text(`#max-concurrency`, &conc, chromedp.ByID), chromedp.Text(`#timeout`, &timeout, chromedp.ByID))
	if want := strconv.Itoa(hookline.DefaultMaxConcurrency); conc != want || timeout != "15s" {
		t.Fatalf("a new endpoint shows max concurrency %q and timeout %q, want the server's %s and 15s", conc, timeout, want)
	}
	var circuit string
	run(t, ctx, "reading the endpoint's circuit", chromedp.Text(`#circuit`, &circuit, chromedp.ByID))
	if !strings.Contains(circuit, "closed") || !strings.Contains(circuit, "opens after 10 failed attempts in a row") {
		t.Fatalf("a new endpoint's circuit reads %q, want closed, opening after the server's 10 failures", circuit)
	}
	if code := n.api(t, "PATCH", "/v1/endpoints/"+epID, map[string]any{"max_concurrency": 4, "timeout_seconds": 30}, nil); code != 200 {
		t.Fatalf("setting max_concurrency and timeout_seconds: %d", code)
	}
	run(t, ctx, "reloading the endpoint",
		chromedp.Navigate(n.base+"/endpoints/"+epID), chromedp.WaitVisible(`#max-concurrency`, chromedp.ByID),
		chromedp.Text(`#max-concurrency`, &conc, chromedp.ByID), chromedp.Text(`#timeout`, &timeout, chromedp.ByID))
	if conc != "4" || timeout != "30s" {
		t.Fatalf("after the update the page shows max concurrency %q and timeout %q, want 4 and 30s", conc, timeout)
	}

	// And its ordering and rate limit (issue 18).
	var ordering, rate string
	run(t, ctx, "reading the endpoint's ordering", chromedp.Text(`#ordering`, &ordering, chromedp.ByID))
	if ordering != "unordered" {
		t.Fatalf("a new endpoint shows ordering %q, want unordered", ordering)
	}
	if code := n.api(t, "PATCH", "/v1/endpoints/"+epID, map[string]any{"ordering": "fifo", "rate_limit": map[string]any{"per_second": 20, "burst": 5}}, nil); code != 200 {
		t.Fatalf("setting ordering and rate_limit: %d", code)
	}
	run(t, ctx, "reloading the endpoint",
		chromedp.Navigate(n.base+"/endpoints/"+epID), chromedp.WaitVisible(`#rate-limit`, chromedp.ByID),
		chromedp.Text(`#ordering`, &ordering, chromedp.ByID), chromedp.Text(`#rate-limit`, &rate, chromedp.ByID))
	if !strings.HasPrefix(ordering, "FIFO") || rate != "20/s, burst 5" {
		t.Fatalf("after the update the page shows ordering %q and rate limit %q, want FIFO and 20/s, burst 5", ordering, rate)
	}
	if code := n.api(t, "PATCH", "/v1/endpoints/"+epID, map[string]any{"ordering": "unordered", "rate_limit": nil}, nil); code != 200 {
		t.Fatalf("clearing ordering and rate_limit: %d", code)
	}

	// Reveal the secret, which the API agrees on.
	var secret string
	run(t, ctx, "revealing the secret",
		chromedp.Click(`form[action$="/reveal"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#secret-value`, chromedp.ByID),
		chromedp.Text(`#secret-value`, &secret, chromedp.ByID))
	var sec struct {
		Secret string `json:"secret"`
	}
	code := n.api(t, "GET", "/v1/endpoints/"+epID+"/secret", nil, &sec)
	if secret == "" || secret != sec.Secret {
		t.Fatalf("revealed %q, the API says %d %q", secret, code, sec.Secret)
	}

	// The live tail shows an event published through the API, without a
	// reload.
	run(t, ctx, "opening the live tail",
		chromedp.Navigate(n.base+"/tail"),
		chromedp.WaitVisible(`#tail-state.live`, chromedp.ByQuery))
	var evt struct {
		ID string `json:"id"`
	}
	if code := n.api(t, "POST", "/v1/events", map[string]any{"type": "order.created", "data": map[string]any{"order": 42}}, &evt); code != 201 {
		t.Fatalf("publishing: %d", code)
	}
	var status string
	run(t, ctx, "waiting for the attempt in the tail",
		chromedp.WaitVisible(`tr[data-event="`+evt.ID+`"]`, chromedp.ByQuery),
		chromedp.Text(`tr[data-event="`+evt.ID+`"] .t-status`, &status, chromedp.ByQuery))
	if status != "200" {
		t.Fatalf("tail shows status %q", status)
	}
	screenshot(t, ctx, dir, "03-tail")

	// The event page shows the payload and the attempt.
	var payload, attemptStatus string
	run(t, ctx, "opening the event",
		chromedp.Click(`tr[data-event="`+evt.ID+`"] a.t-event`, chromedp.ByQuery),
		chromedp.WaitVisible(`pre.payload`, chromedp.ByQuery),
		chromedp.Text(`pre.payload`, &payload, chromedp.ByQuery),
		chromedp.Text(`.attempt .status`, &attemptStatus, chromedp.ByQuery))
	if !strings.Contains(payload, `"order": 42`) || attemptStatus != "200" {
		t.Fatalf("event page: payload %q, attempt status %q", payload, attemptStatus)
	}
	screenshot(t, ctx, dir, "04-event")

	// One-click resend makes a second attempt.
	run(t, ctx, "resending", chromedp.Click(`button.resend-one`, chromedp.ByQuery), chromedp.WaitVisible(`p.flash`, chromedp.ByQuery))
	deadline := time.Now().Add(15 * time.Second)
	for {
		var count int
		run(t, ctx, "counting attempts", chromedp.Reload(), chromedp.WaitVisible(`pre.payload`, chromedp.ByQuery),
			chromedp.Evaluate(`document.querySelectorAll(".attempt").length`, &count))
		if count == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after resend the event page shows %d attempts, want 2", count)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := received(); got != 2 {
		t.Fatalf("the receiver got %d requests, want 2", got)
	}
	screenshot(t, ctx, dir, "05-event-resent")

	// A few more events, then the overview's charts have data.
	for i := range 5 {
		n.api(t, "POST", "/v1/events", map[string]any{"type": "order.updated", "data": map[string]any{"i": i}}, nil)
	}
	waitFor(t, func() bool { return received() >= 7 })
	var points int
	run(t, ctx, "opening the overview",
		chromedp.Navigate(n.base+"/"),
		chromedp.WaitVisible(`figure.chart svg`, chromedp.ByQuery),
		chromedp.Evaluate(`Number(document.querySelector("figure.chart svg").dataset.points)`, &points))
	var bars int
	run(t, ctx, "counting bars", chromedp.Evaluate(`document.querySelectorAll("rect.bar-ok").length`, &bars))
	var tile string
	run(t, ctx, "reading the attempts tile", chromedp.Text(`#tile-attempts`, &tile, chromedp.ByID))
	if points < 1 || bars < 1 || tile == "0" {
		t.Fatalf("overview charts: %d points, %d bars, tile %q", points, bars, tile)
	}
	screenshot(t, ctx, dir, "06-overview")

	// The endpoint list and page with their stats; rotating the secret.
	run(t, ctx, "opening the endpoints", chromedp.Navigate(n.base+"/endpoints"), chromedp.WaitVisible(`table`, chromedp.ByQuery))
	screenshot(t, ctx, dir, "07-endpoints")
	run(t, ctx, "rotating the secret",
		chromedp.Navigate(n.base+"/endpoints/"+epID),
		chromedp.WaitVisible(`form[action$="/rotate"] button`, chromedp.ByQuery),
		chromedp.Click(`form[action$="/rotate"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.flash`, chromedp.ByQuery))
	n.api(t, "GET", "/v1/endpoints/"+epID+"/secret", nil, &sec)
	if sec.Secret == secret {
		t.Fatal("rotating from the dashboard kept the secret")
	}
	screenshot(t, ctx, dir, "08-endpoint")

	// "Send test event" reaches this endpoint alone, though it subscribes
	// to order.* only and another endpoint subscribes to everything.
	starRecv, starReceived := receiver(t)
	if code := n.api(t, "POST", "/v1/endpoints", map[string]any{"url": starRecv.URL, "enabled_events": []string{"*"}}, nil); code != 201 {
		t.Fatalf("creating the * endpoint: %d", code)
	}
	before := received()
	run(t, ctx, "sending a test event",
		chromedp.Click(`form[action$="/test"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`pre.payload`, chromedp.ByQuery),
		chromedp.Location(&loc))
	testID := loc[strings.LastIndex(loc, "/")+1:]
	testID, _, _ = strings.Cut(testID, "?")
	var ds struct {
		Data []struct {
			EndpointID string `json:"endpoint_id"`
		} `json:"data"`
	}
	if code := n.api(t, "GET", "/v1/events/"+testID+"/deliveries", nil, &ds); code != 200 || len(ds.Data) != 1 || ds.Data[0].EndpointID != epID {
		t.Fatalf("test event %s: %d, deliveries %+v, want one to %s", testID, code, ds.Data, epID)
	}
	waitFor(t, func() bool { return received() == before+1 })
	if got := starReceived(); got != 0 {
		t.Fatalf("the * endpoint got %d requests from a test event to another endpoint", got)
	}
	run(t, ctx, "back to the endpoint", chromedp.Navigate(n.base+"/endpoints/"+epID), chromedp.WaitVisible(`form[action$="/rotate"] button`, chromedp.ByQuery))

	// Keyboard: Tab from the top reaches the skip link, then the nav.
	var focused string
	run(t, ctx, "tabbing", chromedp.KeyEvent("\t"), chromedp.Evaluate(`document.activeElement.textContent`, &focused))
	if !strings.Contains(focused, "Skip to content") {
		t.Fatalf("first Tab focuses %q", focused)
	}

	// A narrow window (a phone) keeps the page usable: no horizontal
	// scrolling of the page itself.
	var overflow bool
	run(t, ctx, "narrow window",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(n.base+"/"),
		chromedp.WaitVisible(`figure.chart svg`, chromedp.ByQuery),
		chromedp.Evaluate(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &overflow))
	if overflow {
		t.Fatal("the overview scrolls sideways in a 390 px window")
	}
	screenshot(t, ctx, dir, "09-overview-narrow")
	run(t, ctx, "narrow event page", chromedp.Navigate(n.base+"/events/"+evt.ID), chromedp.WaitVisible(`pre.payload`, chromedp.ByQuery),
		chromedp.Evaluate(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &overflow))
	if overflow {
		t.Fatal("the event page scrolls sideways in a 390 px window")
	}
	screenshot(t, ctx, dir, "10-event-narrow")

	// Signing out ends the session.
	run(t, ctx, "signing out", chromedp.EmulateViewport(1280, 900), chromedp.Click(`.logout button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#key`, chromedp.ByID))
	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
