package storetest

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// runInbound runs the subtests of sources, connections and captured
// requests (hookline.InboundStore).
func runInbound(t *testing.T, open func(t *testing.T) hookline.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"SourceRoundTrip", testSourceRoundTrip},
		{"Connections", testConnections},
		{"CaptureAndClaim", testCaptureAndClaim},
		{"CaptureLeased", testCaptureLeased},
		{"CaptureDedupe", testCaptureDedupe},
		{"CaptureSkipsDeletedConnection", testCaptureSkipsDeletedConnection},
		{"ListRequests", testListRequests},
		{"ResendRequest", testResendRequest},
		{"DeleteSourceCancels", testDeleteSourceCancels},
		{"TruncatedRequest", testTruncatedRequest},
		{"CaptureInvalidUTF8", testCaptureInvalidUTF8},
		{"CaptureBodyPieces", testCaptureBodyPieces},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newFixture(t, open))
		})
	}
}

func (f *fixture) source(name string) *hookline.Source {
	f.t.Helper()
	src := &hookline.Source{ID: hookline.NewID("src"), Name: name, Type: hookline.SourceGitHub, Secret: "s3cret",
		Response: hookline.SourceResponse{Status: 200, Body: `{"received": true}`}, Created: base, Updated: base}
	if err := f.s.CreateSource(f.ctx, src); err != nil {
		f.t.Fatalf("CreateSource: %v", err)
	}
	return src
}

func (f *fixture) connection(sourceID, url, filter string) *hookline.Connection {
	f.t.Helper()
	c := &hookline.Connection{ID: hookline.NewID("con"), SourceID: sourceID, URL: url, Created: base, Updated: base}
	if filter != "" {
		c.Filter = []byte(filter)
	}
	if err := f.s.CreateConnection(f.ctx, c); err != nil {
		f.t.Fatalf("CreateConnection: %v", err)
	}
	return c
}

func inboundRequest(sourceID string, received time.Time, body []byte) *hookline.InboundRequest {
	return &hookline.InboundRequest{ID: hookline.NewID("req"), SourceID: sourceID, Method: "POST", Path: "/in/" + sourceID,
		Query: "a=1&b=%20", Headers: map[string][]string{"Content-Type": {"application/json"}, "X-Multi": {"1", "2"}},
		Body: body, Size: int64(len(body)), RemoteAddr: "127.0.0.1:5000", Received: received, Status: hookline.RequestAccepted}
}

func (f *fixture) capture(r *hookline.InboundRequest, opts hookline.CaptureOptions) hookline.Captured {
	f.t.Helper()
	if opts.Now.IsZero() {
		opts.Now = r.Received
	}
	res, err := f.s.CaptureRequest(f.ctx, r, opts)
	if err != nil {
		f.t.Fatalf("CaptureRequest: %v", err)
	}
	return res
}

func testSourceRoundTrip(t *testing.T, f *fixture) {
	src := &hookline.Source{ID: hookline.NewID("src"), Name: "hmac-1", Type: hookline.SourceHMAC, Secret: "k",
		Options: hookline.SourceOptions{Header: "X-Sig", Algorithm: "sha512", Encoding: "base64", Prefix: "v1=",
			QueryParam: "auth", Username: "u", AllowSHA1: true, URL: "https://h/x", ToleranceSeconds: 60},
		Response: hookline.SourceResponse{Status: 202, Headers: map[string]string{"X-A": "b"}, Body: "ok"},
		Limits: hookline.SourceLimits{AllowedIPs: []string{"192.0.2.0/24", "2001:db8::1"}, RequestsPerMinute: 60,
			BytesPerDay: 1 << 30},
		Created: at(-time.Hour), Updated: at(-time.Minute)}
	if err := f.s.CreateSource(f.ctx, src); err != nil {
		t.Fatal(err)
	}
	for _, get := range []func() (*hookline.Source, error){
		func() (*hookline.Source, error) { return f.s.Source(f.ctx, src.ID) },
		func() (*hookline.Source, error) { return f.s.SourceByName(f.ctx, "hmac-1") },
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		got.Created, got.Updated = normTime(got.Created), normTime(got.Updated)
		if !reflect.DeepEqual(got, src) {
			t.Fatalf("got %+v\nwant %+v", got, src)
		}
	}
	dup := *src
	dup.ID = hookline.NewID("src")
	wantCode(t, f.s.CreateSource(f.ctx, &dup), hookline.ECONFLICT)
	_, err := f.s.Source(f.ctx, "src_missing")
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = f.s.SourceByName(f.ctx, "missing")
	wantCode(t, err, hookline.ENOTFOUND)

	src.Name, src.Secret, src.Limits = "renamed", "k2", hookline.SourceLimits{RequestsPerMinute: 5}
	if err := f.s.UpdateSource(f.ctx, src); err != nil {
		t.Fatal(err)
	}
	if got, err := f.s.SourceByName(f.ctx, "renamed"); err != nil || got.Secret != "k2" || !reflect.DeepEqual(got.Limits, src.Limits) {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	f.source("other")
	list, more, err := f.s.ListSources(f.ctx, hookline.Page{Limit: 1})
	if err != nil || len(list) != 1 || !more || list[0].Name != "other" {
		t.Fatalf("ListSources page 1: %v %v %v", list, more, err)
	}
	list, more, err = f.s.ListSources(f.ctx, hookline.Page{Limit: 1, StartingAfter: list[0].ID})
	if err != nil || len(list) != 1 || more || list[0].ID != src.ID {
		t.Fatalf("ListSources page 2: %v %v %v", list, more, err)
	}
	missing := *src
	missing.ID = "src_missing"
	wantCode(t, f.s.UpdateSource(f.ctx, &missing), hookline.ENOTFOUND)
	wantCode(t, f.s.DeleteSource(f.ctx, "src_missing"), hookline.ENOTFOUND)
}

func testConnections(t *testing.T, f *fixture) {
	a, b := f.source("a"), f.source("b")
	c1 := f.connection(a.ID, "https://one.test/", `{"body.type": ["x.*"]}`)
	f.connection(b.ID, "https://two.test/", "")
	got, err := f.s.Connection(f.ctx, c1.ID)
	if err != nil || got.URL != c1.URL || string(got.Filter) != string(c1.Filter) || got.SourceID != a.ID {
		t.Fatalf("Connection: %+v, %v", got, err)
	}
	list, _, err := f.s.ListConnections(f.ctx, hookline.ConnectionFilter{SourceID: a.ID})
	if err != nil || len(list) != 1 || list[0].ID != c1.ID {
		t.Fatalf("ListConnections(a): %v, %v", list, err)
	}
	c1.URL, c1.Filter = "https://one.test/v2", nil
	if err := f.s.UpdateConnection(f.ctx, c1); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.s.Connection(f.ctx, c1.ID); got.URL != c1.URL || got.Filter != nil {
		t.Fatalf("after update: %+v", got)
	}
	err = f.s.CreateConnection(f.ctx, &hookline.Connection{ID: hookline.NewID("con"), SourceID: "src_missing", URL: "https://x", Created: base, Updated: base})
	wantCode(t, err, hookline.ENOTFOUND)
	wantCode(t, f.s.DeleteConnection(f.ctx, "con_missing"), hookline.ENOTFOUND)
	if err := f.s.DeleteConnection(f.ctx, c1.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.Connection(f.ctx, c1.ID)
	wantCode(t, err, hookline.ENOTFOUND)
}

func testCaptureAndClaim(t *testing.T, f *fixture) {
	src := f.source("gh")
	c1 := f.connection(src.ID, "https://one.test/", "")
	c2 := f.connection(src.ID, "https://two.test/", "")
	body := []byte{0, 1, 2, 0xff, '{', '}'}
	r := inboundRequest(src.ID, base, body)
	res := f.capture(r, hookline.CaptureOptions{ConnectionIDs: []string{c1.ID, c2.ID}})
	if res.Deliveries != 2 || len(res.Tasks) != 0 || r.Status != hookline.RequestAccepted {
		t.Fatalf("capture: %+v", res)
	}
	got, err := f.s.Request(f.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Received = normTime(got.Received)
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("Request:\n got %+v\nwant %+v", got, r)
	}
	// An event delivery due at the same time is claimed beside them.
	ep := f.endpoint([]string{"*"})
	ev := f.publishAt("a.b", base)
	tasks := f.claim("n1", at(time.Second), time.Minute, 10)
	if len(tasks) != 3 {
		t.Fatalf("claimed %d tasks, want 3", len(tasks))
	}
	var reqTasks []*hookline.Task
	for _, tk := range tasks {
		if tk.Request == nil {
			if tk.Event.ID != ev.ID || tk.Endpoint.ID != ep.ID {
				t.Fatalf("event task %+v", tk)
			}
			continue
		}
		reqTasks = append(reqTasks, tk)
		if tk.Event.ID != r.ID || !bytes.Equal(tk.Request.Body, body) || tk.Request.Method != "POST" ||
			tk.Request.Query != r.Query || !reflect.DeepEqual(tk.Request.Headers, r.Headers) || tk.Attempt != 1 {
			t.Fatalf("request task %+v", tk)
		}
		if want := map[string]string{c1.ID: c1.URL, c2.ID: c2.URL}[tk.Endpoint.ID]; tk.Endpoint.URL != want {
			t.Fatalf("task to %s has URL %q, want %q", tk.Endpoint.ID, tk.Endpoint.URL, want)
		}
	}
	if len(f.claim("n2", at(time.Second), time.Minute, 10)) != 0 {
		t.Fatal("leased request deliveries claimed twice")
	}
	f.complete("n1", succeeded(reqTasks[0], at(2*time.Second)), retry(reqTasks[1], at(2*time.Second), at(time.Minute)))
	as := f.attempts(hookline.AttemptFilter{EventID: r.ID})
	if len(as) != 2 {
		t.Fatalf("%d attempts, want 2", len(as))
	}
	retried := f.claim("n1", at(time.Minute), time.Minute, 10)
	if len(retried) != 1 || retried[0].Endpoint.ID != reqTasks[1].Endpoint.ID || retried[0].Attempt != 2 || retried[0].Request == nil {
		t.Fatalf("retry claim: %+v", retried)
	}
	// A rejected request is stored but makes no deliveries.
	rej := inboundRequest(src.ID, base, []byte("x"))
	rej.Status, rej.Reason = hookline.RequestRejected, "signature_mismatch: no"
	if res := f.capture(rej, hookline.CaptureOptions{ConnectionIDs: []string{c1.ID}}); res.Deliveries != 0 {
		t.Fatalf("rejected request made %d deliveries", res.Deliveries)
	}
	if got, _ := f.s.Request(f.ctx, rej.ID); got.Status != hookline.RequestRejected || got.Reason != rej.Reason {
		t.Fatalf("rejected stored as %+v", got)
	}
}

func testCaptureLeased(t *testing.T, f *fixture) {
	src := f.source("gh")
	c := f.connection(src.ID, "https://one.test/", "")
	r := inboundRequest(src.ID, base, []byte(`{}`))
	r.Status = hookline.RequestReplay
	res := f.capture(r, hookline.CaptureOptions{ConnectionIDs: []string{c.ID, ""}, LeaseOwner: "n1", LeaseExpires: at(time.Minute)})
	if len(res.Tasks) != 2 || res.Tasks[0].Request == nil || res.Tasks[0].Endpoint.URL != c.URL || res.Tasks[1].Endpoint.ID != "" {
		t.Fatalf("leased capture: %+v", res)
	}
	if n := len(f.claim("n2", at(time.Second), time.Minute, 10)); n != 0 {
		t.Fatalf("claimed %d leased deliveries", n)
	}
	f.complete("n1", succeeded(res.Tasks[0], at(time.Second)), failed(res.Tasks[1], at(time.Second)))
	ds := f.deliveries(r.ID)
	if len(ds) != 2 || ds[0].Status == hookline.DeliveryPending || ds[1].Status == hookline.DeliveryPending {
		t.Fatalf("deliveries after completion: %+v %+v", ds[0], ds[1])
	}
}

// testCaptureSkipsDeletedConnection: a connection deleted between the
// match and the capture gets no delivery; the others still do.
func testCaptureSkipsDeletedConnection(t *testing.T, f *fixture) {
	src := f.source("gh")
	kept, gone := f.connection(src.ID, "https://kept.test/", ""), f.connection(src.ID, "https://gone.test/", "")
	if err := f.s.DeleteConnection(f.ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	r := inboundRequest(src.ID, base, []byte(`{}`))
	res := f.capture(r, hookline.CaptureOptions{ConnectionIDs: []string{gone.ID, kept.ID}, LeaseOwner: "n1", LeaseExpires: at(time.Minute)})
	if res.Deliveries != 1 || len(res.Tasks) != 1 || res.Tasks[0].Endpoint.URL != kept.URL {
		t.Fatalf("capture to a deleted and a kept connection: %d deliveries, tasks %+v", res.Deliveries, res.Tasks)
	}
	if ds := f.deliveries(r.ID); len(ds) != 1 || ds[0].EndpointID != kept.ID {
		t.Fatalf("stored deliveries %+v, want one to %s", ds, kept.ID)
	}
}

func testCaptureDedupe(t *testing.T, f *fixture) {
	src, other := f.source("gh"), f.source("gh2")
	c := f.connection(src.ID, "https://one.test/", "")
	first := inboundRequest(src.ID, base, []byte(`{}`))
	first.DedupeKey = "delivery-1"
	f.capture(first, hookline.CaptureOptions{ConnectionIDs: []string{c.ID}, DedupeWindow: hookline.DedupeWindow})
	again := inboundRequest(src.ID, at(time.Hour), []byte(`{}`))
	again.DedupeKey = "delivery-1"
	res := f.capture(again, hookline.CaptureOptions{ConnectionIDs: []string{c.ID}, DedupeWindow: hookline.DedupeWindow})
	if res.Deliveries != 0 || again.Status != hookline.RequestDuplicate || again.Reason != "duplicate of "+first.ID {
		t.Fatalf("duplicate: %+v, %s %q", res, again.Status, again.Reason)
	}
	if got, _ := f.s.Request(f.ctx, again.ID); got.Status != hookline.RequestDuplicate {
		t.Fatalf("duplicate stored as %s", got.Status)
	}
	// Another source's id space is its own.
	elsewhere := inboundRequest(other.ID, at(time.Hour), []byte(`{}`))
	elsewhere.DedupeKey = "delivery-1"
	f.capture(elsewhere, hookline.CaptureOptions{DedupeWindow: hookline.DedupeWindow})
	if elsewhere.Status != hookline.RequestAccepted {
		t.Fatalf("other source's delivery id treated as duplicate")
	}
	// After the window the id is new again.
	late := inboundRequest(src.ID, at(25*time.Hour), []byte(`{}`))
	late.DedupeKey = "delivery-1"
	if res := f.capture(late, hookline.CaptureOptions{ConnectionIDs: []string{c.ID}, DedupeWindow: hookline.DedupeWindow}); res.Deliveries != 1 {
		t.Fatalf("after the window: %+v (%s)", res, late.Status)
	}
}

func testListRequests(t *testing.T, f *fixture) {
	a, b := f.source("a"), f.source("b")
	r1 := inboundRequest(a.ID, at(-2*time.Hour), []byte(`{"type":"invoice.paid"}`))
	r2 := inboundRequest(a.ID, at(-time.Hour), []byte(`{"type":"charge.failed"}`))
	r2.Status, r2.Reason = hookline.RequestRejected, "signature_mismatch"
	r3 := inboundRequest(b.ID, base, []byte(`<xml/>`))
	r3.Headers = map[string][]string{"X-Needle": {"haystack"}}
	for _, r := range []*hookline.InboundRequest{r1, r2, r3} {
		f.capture(r, hookline.CaptureOptions{})
	}
	ids := func(fl hookline.RequestFilter) []string {
		t.Helper()
		fl.Limit = 100
		list, _, err := f.s.ListRequests(f.ctx, fl)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range list {
			out = append(out, r.ID)
		}
		return out
	}
	cases := []struct {
		name string
		f    hookline.RequestFilter
		want []string
	}{
		{"all, newest first", hookline.RequestFilter{}, []string{r3.ID, r2.ID, r1.ID}},
		{"source", hookline.RequestFilter{SourceID: a.ID}, []string{r2.ID, r1.ID}},
		{"status", hookline.RequestFilter{Status: hookline.RequestRejected}, []string{r2.ID}},
		{"since", hookline.RequestFilter{Since: at(-time.Hour)}, []string{r3.ID, r2.ID}},
		{"until", hookline.RequestFilter{Until: at(-time.Hour)}, []string{r1.ID}},
		{"search body", hookline.RequestFilter{Search: "invoice.paid"}, []string{r1.ID}},
		{"search headers", hookline.RequestFilter{Search: "haystack"}, []string{r3.ID}},
		{"search with wildcard characters", hookline.RequestFilter{Search: "%"}, nil},
	}
	for _, c := range cases {
		if got := ids(c.f); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	page, more, err := f.s.ListRequests(f.ctx, hookline.RequestFilter{Page: hookline.Page{Limit: 2}})
	if err != nil || len(page) != 2 || !more {
		t.Fatalf("page: %d %v %v", len(page), more, err)
	}
}

func testResendRequest(t *testing.T, f *fixture) {
	src := f.source("gh")
	c := f.connection(src.ID, "https://one.test/", "")
	r := inboundRequest(src.ID, base, []byte(`{}`))
	f.capture(r, hookline.CaptureOptions{ConnectionIDs: []string{c.ID}})
	tasks := f.claim("n1", at(time.Second), time.Minute, 10)
	f.complete("n1", failed(tasks[0], at(time.Second)))
	ds, err := f.s.ResendRequest(f.ctx, r.ID, "", at(time.Hour))
	if err != nil || len(ds) != 1 || ds[0].Status != hookline.DeliveryPending || ds[0].Attempts != 1 {
		t.Fatalf("ResendRequest: %+v, %v", ds, err)
	}
	// Pending again, it has waited since the resend, not since the capture.
	if b, err := f.s.Backlog(f.ctx); err != nil || b.Pending != 1 || !b.Oldest.Equal(at(time.Hour)) {
		t.Fatalf("Backlog after ResendRequest = %+v, %v; want 1 pending since %v", b, err, at(time.Hour))
	}
	again := f.claim("n1", at(time.Hour), time.Minute, 10)
	if len(again) != 1 || again[0].Attempt != 2 || again[0].Request == nil {
		t.Fatalf("claim after resend: %+v", again)
	}
	_, err = f.s.ResendRequest(f.ctx, "req_missing", "", base)
	wantCode(t, err, hookline.ENOTFOUND)
	_, err = f.s.ResendRequest(f.ctx, r.ID, "con_missing", base)
	wantCode(t, err, hookline.ENOTFOUND)
}

func testDeleteSourceCancels(t *testing.T, f *fixture) {
	src := f.source("gh")
	c := f.connection(src.ID, "https://one.test/", "")
	r := inboundRequest(src.ID, base, []byte(`{}`))
	f.capture(r, hookline.CaptureOptions{ConnectionIDs: []string{c.ID}})
	if err := f.s.DeleteSource(f.ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	if ds := f.deliveries(r.ID); len(ds) != 1 || ds[0].Status != hookline.DeliveryCanceled {
		t.Fatalf("deliveries after delete: %+v", ds)
	}
	if n := len(f.claim("n1", at(time.Hour), time.Minute, 10)); n != 0 {
		t.Fatalf("claimed %d tasks of a deleted source", n)
	}
	if _, err := f.s.Request(f.ctx, r.ID); err != nil {
		t.Fatalf("captured request gone with its source: %v", err)
	}
	_, err := f.s.Connection(f.ctx, c.ID)
	wantCode(t, err, hookline.ENOTFOUND)
}

// testTruncatedRequest: a rejected request kept only in part reads back
// with the whole body's size and hash, and its stored beginning.
func testTruncatedRequest(t *testing.T, f *fixture) {
	src := f.source("truncated")
	r := inboundRequest(src.ID, at(0), bytes.Repeat([]byte("x"), 100))
	r.Status, r.Reason, r.Size, r.BodySHA256 = hookline.RequestRejected, "bad signature", 1<<20, strings.Repeat("ab", 32)
	f.capture(r, hookline.CaptureOptions{})
	got, err := f.s.Request(f.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != 1<<20 || got.BodySHA256 != r.BodySHA256 || !bytes.Equal(got.Body, r.Body) {
		t.Fatalf("got size %d sha %q body %d bytes, want %d %q %d", got.Size, got.BodySHA256, len(got.Body), r.Size, r.BodySHA256, len(r.Body))
	}
	whole := inboundRequest(src.ID, at(time.Second), []byte("whole"))
	f.capture(whole, hookline.CaptureOptions{})
	if got, err := f.s.Request(f.ctx, whole.ID); err != nil || got.Size != 5 || got.BodySHA256 != "" {
		t.Fatalf("whole request: %+v, %v", got, err)
	}
}
