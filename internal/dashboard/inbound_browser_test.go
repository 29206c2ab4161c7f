package dashboard_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// capture is a loopback receiver that keeps what it was sent.
type capture struct {
	mu   sync.Mutex
	reqs []capturedReq
}

type capturedReq struct {
	method string
	header http.Header
	body   string
}

func (c *capture) all() []capturedReq {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]capturedReq(nil), c.reqs...)
}

func captureServer(t *testing.T) (*httptest.Server, *capture) {
	c := &capture{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.reqs = append(c.reqs, capturedReq{method: r.Method, header: r.Header.Clone(), body: string(b)})
		c.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "edited copy received")
	}))
	t.Cleanup(srv.Close)
	return srv, c
}

// TestBrowserInbound drives the inbound pages in Chromium: a source made
// through the form, a request sent to its ingest URL over real HTTP, the
// requests list and page, and an edit-and-replay whose edited body the
// receiver gets and whose attempt the page shows.
func TestBrowserInbound(t *testing.T) {
	start := time.Now()
	n := startNode(t)
	recv, got := captureServer(t)
	ctx := browser(t)
	dir := shots(t)
	t.Logf("screenshots in %s", dir)

	run(t, ctx, "signing in",
		chromedp.Navigate(n.base+"/sources"),
		chromedp.WaitVisible(`#key`, chromedp.ByID),
		chromedp.SendKeys(`#key`, n.key, chromedp.ByID),
		chromedp.Submit(`#key`, chromedp.ByID),
		chromedp.WaitVisible(`a.button[href="/sources/new"]`, chromedp.ByQuery))
	var current string
	run(t, ctx, "reading the nav", chromedp.Text(`nav a[aria-current="page"]`, &current, chromedp.ByQuery))
	if current != "Sources" {
		t.Fatalf("the nav highlights %q on /sources", current)
	}

	// A token source: the shared token in ?auth=, as seed-style providers do.
	run(t, ctx, "creating a source",
		chromedp.Click(`a.button[href="/sources/new"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#name`, chromedp.ByID),
		chromedp.SendKeys(`#name`, "shop-orders", chromedp.ByID),
		chromedp.SetValue(`#type`, "token", chromedp.ByID),
		chromedp.SendKeys(`#secret`, "s3cret-token", chromedp.ByID),
		chromedp.SetValue(`#options`, `{"query_param": "auth"}`, chromedp.ByID))
	screenshot(t, ctx, dir, "inbound-01-source-new")
	var loc, ingest string
	run(t, ctx, "submitting the source",
		chromedp.Submit(`#name`, chromedp.ByID),
		chromedp.WaitVisible(`#ingest-url`, chromedp.ByID),
		chromedp.Text(`#ingest-url`, &ingest, chromedp.ByID),
		chromedp.Location(&loc))
	if !strings.Contains(loc, "/sources/src_") || !strings.HasPrefix(ingest, n.base+"/in/src_") {
		t.Fatalf("after create at %s, ingest URL %q", loc, ingest)
	}
	var src struct {
		Name    string `json:"name"`
		Type    string `json:"type"`
		Secret  string `json:"secret"`
		Options struct {
			QueryParam string `json:"query_param"`
		} `json:"options"`
		IngestURL string `json:"ingest_url"`
	}
	srcID := ingest[strings.LastIndex(ingest, "/")+1:]
	if code := n.api(t, "GET", "/v1/sources/"+srcID, nil, &src); code != 200 || src.Name != "shop-orders" || src.Type != "token" ||
		src.Secret != "" || src.Options.QueryParam != "auth" || src.IngestURL != ingest {
		t.Fatalf("the API shows the source as %d %+v", code, src)
	}
	// The secret shows on its own route only (issue 20, finding 8).
	if code := n.api(t, "GET", "/v1/sources/"+srcID+"/secret", nil, &src); code != 200 || src.Secret != "s3cret-token" {
		t.Fatalf("the source's secret: %d %q", code, src.Secret)
	}

	// One rejected request (wrong token) and one accepted, over real HTTP.
	post := func(query, body string) *http.Response {
		req, _ := http.NewRequest("POST", ingest+query, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Shop-Topic", "orders/create")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("?auth=wrong", `{"order":1}`); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong token got %s", resp.Status)
	}
	orig := "{\n  \"order\": 42,\n  \"note\": \"<b>not markup</b>\"\n}"
	resp := post("?auth=s3cret-token", orig)
	reqID := resp.Header.Get("X-Hookline-Request-Id")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(reqID, "req_") {
		t.Fatalf("the right token got %s, request id %q", resp.Status, reqID)
	}

	// The source page lists both; the requests list filters by status.
	var rows int
	run(t, ctx, "reloading the source", chromedp.Reload(), chromedp.WaitVisible(`tr[data-request="`+reqID+`"]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("table.requests tbody tr").length`, &rows))
	if rows != 2 {
		t.Fatalf("the source page lists %d requests, want 2", rows)
	}
	screenshot(t, ctx, dir, "inbound-02-source")
	var reason string
	run(t, ctx, "filtering rejected requests",
		chromedp.Click(`nav a[href="/requests"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#filter-status`, chromedp.ByID),
		chromedp.SetValue(`#filter-status`, "rejected", chromedp.ByID),
		chromedp.Submit(`#filter-status`, chromedp.ByID),
		chromedp.WaitVisible(`.reason`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("table.requests tbody tr").length`, &rows),
		chromedp.Text(`.reason`, &reason, chromedp.ByQuery))
	if rows != 1 || !strings.Contains(reason, "token") {
		t.Fatalf("rejected filter: %d rows, reason %q", rows, reason)
	}
	screenshot(t, ctx, dir, "inbound-03-requests-rejected")
	run(t, ctx, "listing all requests",
		chromedp.Navigate(n.base+"/requests"),
		chromedp.WaitVisible(`tr[data-request="`+reqID+`"]`, chromedp.ByQuery))
	screenshot(t, ctx, dir, "inbound-04-requests")

	// The request page: headers, the JSON body as text, no connections yet.
	var bodyText, headersText string
	var bold int
	run(t, ctx, "opening the request",
		chromedp.Click(`tr[data-request="`+reqID+`"] a[href^="/requests/"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#request-body`, chromedp.ByID),
		chromedp.Text(`#request-body`, &bodyText, chromedp.ByID),
		chromedp.Text(`table.headers`, &headersText, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("main b").length`, &bold))
	if !strings.Contains(bodyText, `"order": 42`) || !strings.Contains(bodyText, "<b>not markup</b>") || bold != 0 {
		t.Fatalf("request body shown as %q (%d <b> elements)", bodyText, bold)
	}
	if !strings.Contains(headersText, "X-Shop-Topic") || !strings.Contains(headersText, "orders/create") {
		t.Fatalf("request headers shown as %q", headersText)
	}
	screenshot(t, ctx, dir, "inbound-05-request")

	// Edit and replay: a new header, the body edited, to the receiver.
	edited := strings.Replace(orig, "42", "43", 1)
	var headers string
	run(t, ctx, "reading the prefilled form", chromedp.Value(`#replay-headers`, &headers, chromedp.ByID))
	if !strings.Contains(headers, "X-Shop-Topic: orders/create") {
		t.Fatalf("the form's headers: %q", headers)
	}
	run(t, ctx, "editing and replaying",
		chromedp.SetValue(`#replay-url`, recv.URL+"/hooks", chromedp.ByID),
		chromedp.SetValue(`#replay-headers`, headers+"X-Edited: yes\n", chromedp.ByID),
		chromedp.SetValue(`#replay-body`, edited, chromedp.ByID),
		chromedp.ScrollIntoView(`#edit-replay`, chromedp.ByID))
	screenshot(t, ctx, dir, "inbound-06-edit-replay")
	var flash, status, replayOf string
	run(t, ctx, "submitting the replay",
		chromedp.Click(`#replay-submit`, chromedp.ByID),
		chromedp.WaitVisible(`p.flash`, chromedp.ByQuery),
		chromedp.Text(`p.flash`, &flash, chromedp.ByQuery),
		chromedp.Text(`.attempt .status`, &status, chromedp.ByQuery),
		chromedp.Text(`#request-status`, &replayOf, chromedp.ByID),
		chromedp.Location(&loc))
	if !strings.Contains(flash, "answered 202") || status != "202" || replayOf != "replay" || strings.Contains(loc, reqID) {
		t.Fatalf("after the replay at %s: flash %q, attempt status %q, request status %q", loc, flash, status, replayOf)
	}
	screenshot(t, ctx, dir, "inbound-07-replayed")
	reqs := got.all()
	if len(reqs) != 1 {
		t.Fatalf("the receiver got %d requests, want 1", len(reqs))
	}
	// Byte for byte: the textarea's CRLFs went back to the body's LFs.
	if r := reqs[0]; r.method != "POST" || r.body != edited || r.header.Get("X-Edited") != "yes" ||
		r.header.Get("X-Shop-Topic") != "orders/create" || r.header.Get("X-Hookline-Source") != srcID {
		t.Fatalf("the receiver got %s %q with headers %v", r.method, r.body, r.header)
	}

	// A connection, then Replay (unedited) goes to it.
	run(t, ctx, "adding a connection",
		chromedp.Navigate(n.base+"/sources/"+srcID),
		chromedp.WaitVisible(`#ingest-url`, chromedp.ByID),
		chromedp.Click(`#add-connection summary`, chromedp.ByQuery),
		chromedp.WaitVisible(`#con-url`, chromedp.ByID),
		chromedp.SendKeys(`#con-url`, recv.URL+"/forward", chromedp.ByID),
		chromedp.SetValue(`#con-filter`, `{"headers.x-shop-topic": {"prefix": "orders/"}}`, chromedp.ByID),
		chromedp.Submit(`#con-url`, chromedp.ByID),
		chromedp.WaitVisible(`#connections`, chromedp.ByID))
	screenshot(t, ctx, dir, "inbound-08-source-connection")
	run(t, ctx, "replaying to the connections",
		chromedp.Navigate(n.base+"/requests/"+reqID),
		chromedp.WaitVisible(`#replay`, chromedp.ByID),
		chromedp.Click(`#replay`, chromedp.ByID),
		chromedp.WaitVisible(`p.flash`, chromedp.ByQuery),
		chromedp.Text(`p.flash`, &flash, chromedp.ByQuery))
	reqs = got.all()
	if len(reqs) != 2 || reqs[1].body != orig || !strings.Contains(flash, "/forward answered 202") {
		t.Fatalf("replay to connections: flash %q, receiver got %d", flash, len(reqs))
	}

	// The raw link downloads through the session, never as a page.
	var rawType string
	run(t, ctx, "fetching the raw body", chromedp.Evaluate(`fetch("/requests/`+reqID+`/raw").then(r => r.headers.get("content-type") + "|" + r.headers.get("content-disposition"))`, &rawType,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if !strings.HasPrefix(rawType, "application/octet-stream|attachment") {
		t.Fatalf("raw body served as %q", rawType)
	}

	// Narrow window: the request page does not scroll sideways.
	var overflow bool
	run(t, ctx, "narrow request page",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(n.base+"/requests/"+reqID),
		chromedp.WaitVisible(`#request-body`, chromedp.ByID),
		chromedp.Evaluate(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &overflow))
	screenshot(t, ctx, dir, "inbound-09-request-narrow")
	if overflow {
		t.Fatal("the request page scrolls sideways in a 390 px window")
	}
	run(t, ctx, "narrow sources page",
		chromedp.Navigate(n.base+"/sources"),
		chromedp.WaitVisible(`table`, chromedp.ByQuery),
		chromedp.Evaluate(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &overflow))
	screenshot(t, ctx, dir, "inbound-10-sources-narrow")
	if overflow {
		t.Fatal("the sources page scrolls sideways in a 390 px window")
	}
	run(t, ctx, "wide again", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(n.base+"/sources"), chromedp.WaitVisible(`table`, chromedp.ByQuery))
	screenshot(t, ctx, dir, "inbound-11-sources")

	// Deleting the source keeps its requests.
	run(t, ctx, "deleting the source",
		chromedp.Navigate(n.base+"/sources/"+srcID),
		chromedp.WaitVisible(`#delete-source`, chromedp.ByID),
		chromedp.Click(`#delete-source`, chromedp.ByID),
		chromedp.WaitVisible(`p.flash`, chromedp.ByQuery),
		chromedp.Navigate(n.base+"/requests/"+reqID),
		chromedp.WaitVisible(`#request-body`, chromedp.ByID))
	if code := n.api(t, "GET", "/v1/sources/"+srcID, nil, nil); code != http.StatusNotFound {
		t.Fatalf("after delete the API answers %d for the source", code)
	}
	t.Logf("inbound browser test took %s", time.Since(start).Round(time.Millisecond))
}
