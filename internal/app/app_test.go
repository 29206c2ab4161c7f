package app_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/inbound"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// openStore opens a real SQLite store in a temporary directory, closed
// when the test ends.
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "hookline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// newApp is the application layer over a real SQLite store in a temporary
// directory, with no engine; wakes counts the engine wake-ups it asks for.
func newApp(t *testing.T) (a *app.App, store *sqlite.Store, wakes *atomic.Int64) {
	t.Helper()
	store = openStore(t)
	wakes = new(atomic.Int64)
	a = app.New(app.Config{Store: store, Dev: true, OnWake: func() { wakes.Add(1) }})
	t.Cleanup(a.Close)
	return a, store, wakes
}

// wantErr fails unless err has code and param ("" for none expected).
func wantErr(t *testing.T, err error, code, param string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if got := hookline.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if got := hookline.ErrorParam(err); got != param {
		t.Fatalf("error %v: param %q, want %q", err, got, param)
	}
}

func events(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("type%d.created", i)
	}
	return out
}

// TestListenDeviceRules: a listen device's settings are checked by the
// rules every endpoint is (the 256-event cap the hub once lacked among
// them), before the store is touched.
func TestListenDeviceRules(t *testing.T) {
	t.Parallel()
	a, store, _ := newApp(t)
	for _, tc := range []struct {
		name      string
		device    string
		set       app.DeviceSettings
		code      string
		param     string
		wantEvent []string
	}{
		{name: "defaults", device: "laptop", wantEvent: []string{"*"}},
		{name: "bad name", device: "-laptop", code: hookline.EINVALID, param: "name"},
		{name: "name too long", device: strings.Repeat("a", 64), code: hookline.EINVALID, param: "name"},
		{name: "bad scheme", device: "d1", set: app.DeviceSettings{Scheme: "hmac"}, code: hookline.EINVALID, param: "signature_scheme"},
		{name: "bad pattern", device: "d2", set: app.DeviceSettings{Events: []string{"a.b", "in voice"}}, code: hookline.EINVALID, param: "enabled_events[1]"},
		// Stored sorted, as every endpoint's are.
		{name: "256 events", device: "d3", set: app.DeviceSettings{Events: events(256)}, wantEvent: slices.Sorted(slices.Values(events(256)))},
		{name: "257 events", device: "d4", set: app.DeviceSettings{Events: events(257)}, code: hookline.EINVALID, param: "enabled_events"},
		{name: "stripe", device: "d5", set: app.DeviceSettings{Events: []string{"invoice.*"}, Scheme: hookline.SchemeStripe}, wantEvent: []string{"invoice.*"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep, err := a.ListenDevice(t.Context(), tc.device, tc.set)
			wantErr(t, err, tc.code, tc.param)
			if tc.code != "" {
				if _, err := a.ListenDeviceEndpoint(t.Context(), tc.device); hookline.ErrorCode(err) != hookline.ENOTFOUND {
					t.Fatalf("a refused device was stored: %v", err)
				}
				return
			}
			if ep.URL != "listen://"+tc.device || ep.Status != hookline.EndpointEnabled {
				t.Fatalf("device endpoint %s, %s", ep.URL, ep.Status)
			}
			stored, err := store.Endpoint(t.Context(), ep.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.wantEvent
			if want == nil {
				want = tc.set.Events
			}
			if strings.Join(stored.EnabledEvents, ",") != strings.Join(want, ",") {
				t.Fatalf("stored events %v, want %v", stored.EnabledEvents, want)
			}
			if tc.set.Scheme != "" && stored.SignatureScheme != tc.set.Scheme {
				t.Fatalf("stored scheme %q, want %q", stored.SignatureScheme, tc.set.Scheme)
			}
		})
	}
}

// TestListenDeviceLifecycle: found again by name with the same secret,
// settings applied, a disabled device enabled again with the engine woken,
// forgotten, then made anew with a new secret; idle devices are named.
func TestListenDeviceLifecycle(t *testing.T) {
	t.Parallel()
	a, store, wakes := newApp(t)
	ctx := t.Context()
	first, err := a.ListenDevice(ctx, "laptop", app.DeviceSettings{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.ListenDevice(ctx, "laptop", app.DeviceSettings{Events: []string{"invoice.*"}})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.Secret != first.Secret {
		t.Fatalf("the device was made again: %s/%s", first.ID, again.ID)
	}
	if got, _ := store.Endpoint(ctx, first.ID); strings.Join(got.EnabledEvents, ",") != "invoice.*" {
		t.Fatalf("events not applied: %v", got.EnabledEvents)
	}

	disabled := hookline.EndpointDisabled
	if _, err := a.UpdateEndpoint(ctx, first.ID, app.EndpointParams{Status: &disabled}, app.ByAPI); err != nil {
		t.Fatal(err)
	}
	before := wakes.Load()
	if ep, err := a.ListenDevice(ctx, "laptop", app.DeviceSettings{}); err != nil || ep.Status != hookline.EndpointEnabled {
		t.Fatalf("reconnecting a disabled device: %v, status %v", err, ep)
	}
	if wakes.Load() == before {
		t.Fatal("enabling the device again did not wake the engine")
	}
	before = wakes.Load()
	a.ListenDeviceConnected(ctx, "laptop")
	if wakes.Load() == before {
		t.Fatal("a device connecting did not wake the engine")
	}

	idle, err := a.IdleListenDevices(ctx, time.Now().Add(time.Hour), func(string) bool { return false })
	if err != nil || len(idle) != 1 || idle[0] != "laptop" {
		t.Fatalf("idle devices %v, %v; want [laptop]", idle, err)
	}
	if idle, _ := a.IdleListenDevices(ctx, time.Now().Add(-time.Hour), func(string) bool { return false }); len(idle) != 0 {
		t.Fatalf("a device seen now is idle: %v", idle)
	}
	if idle, _ := a.IdleListenDevices(ctx, time.Now().Add(time.Hour), func(string) bool { return true }); len(idle) != 0 {
		t.Fatalf("a busy device is idle: %v", idle)
	}

	// A device that disconnects is seen then; once forgotten, it is not
	// (its mark would outlive it).
	const seen = "listen.seen.laptop"
	seenMark := func() string {
		t.Helper()
		v, err := store.Setting(ctx, seen)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if err := store.SetSetting(ctx, seen, "1"); err != nil {
		t.Fatal(err)
	}
	a.ListenDeviceDisconnected(ctx, "laptop")
	if seenMark() == "1" {
		t.Fatal("a device that disconnected was not marked seen")
	}

	if _, err := a.ForgetListenDevice(ctx, "laptop"); err != nil {
		t.Fatal(err)
	}
	if err := store.SetSetting(ctx, seen, "1"); err != nil {
		t.Fatal(err)
	}
	a.ListenDeviceDisconnected(ctx, "laptop")
	if v := seenMark(); v != "1" {
		t.Fatalf("a forgotten device was marked seen as it disconnected (%s)", v)
	}
	if _, err := store.Endpoint(ctx, first.ID); hookline.ErrorCode(err) != hookline.ENOTFOUND {
		t.Fatalf("the forgotten device's endpoint: %v", err)
	}
	_, err = a.ForgetListenDevice(ctx, "laptop")
	wantErr(t, err, hookline.ENOTFOUND, "id")
	fresh, err := a.ListenDevice(ctx, "laptop", app.DeviceSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if fresh.ID == first.ID || fresh.Secret == first.Secret {
		t.Fatal("a forgotten device came back with its old endpoint or secret")
	}
}

// captured stores a request at a source with no verification.
func captured(t *testing.T, a *app.App, ctx context.Context) (*hookline.Source, *hookline.InboundRequest) {
	t.Helper()
	name, typ := "src-"+strings.ReplaceAll(t.Name(), "/", "-"), hookline.SourceNone
	src, err := a.CreateSource(ctx, app.SourceParams{Name: &name, Type: &typ}, app.ByAPI)
	if err != nil {
		t.Fatal(err)
	}
	req, err := a.Ingest(ctx, src, app.Received{Method: "POST", Path: "/in/" + src.ID, Header: http.Header{}, Body: inbound.Body{[]byte(`{}`)},
		URL: "http://127.0.0.1/in/" + src.ID, RemoteAddr: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	return src, req
}

// TestReplayRules: the one check both the API and the dashboard's replay
// go through.
func TestReplayRules(t *testing.T) {
	t.Parallel()
	a, _, _ := newApp(t)
	_, req := captured(t, a, t.Context())
	for _, tc := range []struct {
		name  string
		p     app.ReplayParams
		code  string
		param string
	}{
		{name: "method not a token", p: app.ReplayParams{Method: "GET /x"}, code: hookline.EINVALID, param: "method"},
		{name: "method with a colon", p: app.ReplayParams{Method: "P:OST"}, code: hookline.EINVALID, param: "method"},
		{name: "header name with a space", p: app.ReplayParams{Headers: map[string][]string{"X Bad": {"1"}}}, code: hookline.EINVALID, param: "headers"},
		{name: "header value with CRLF", p: app.ReplayParams{Headers: map[string][]string{"X-Ok": {"1\r\nX-Evil: 2"}}}, code: hookline.EINVALID, param: "headers"},
		{name: "header value with NUL", p: app.ReplayParams{Headers: map[string][]string{"X-Ok": {"a\x00"}}}, code: hookline.EINVALID, param: "headers"},
		// Valid edits get past the check to the target: none is given and
		// the source has no connection, so nothing is sent.
		{name: "lower-case method", p: app.ReplayParams{Method: "put"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Replay(t.Context(), req.ID, tc.p, app.ByAPI)
			if tc.code == "" {
				if code := hookline.ErrorCode(err); code == hookline.EINVALID && (hookline.ErrorParam(err) == "method" || hookline.ErrorParam(err) == "headers") {
					t.Fatalf("valid edits refused: %v", err)
				}
				return
			}
			wantErr(t, err, tc.code, tc.param)
		})
	}
	_, err := a.Replay(t.Context(), "req_missing", app.ReplayParams{}, app.ByAPI)
	wantErr(t, err, hookline.ENOTFOUND, "id")
}

func TestReplayBody(t *testing.T) {
	t.Parallel()
	text, b64, bad := "hello", "aGVsbG8=", "%%%"
	for _, tc := range []struct {
		name      string
		body, b64 *string
		want      string
		none      bool
		code, prm string
	}{
		{name: "neither", none: true},
		{name: "text", body: &text, want: "hello"},
		{name: "base64", b64: &b64, want: "hello"},
		{name: "both", body: &text, b64: &b64, code: hookline.EINVALID, prm: "body"},
		{name: "bad base64", b64: &bad, code: hookline.EINVALID, prm: "body_base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := app.ReplayBody(tc.body, tc.b64)
			wantErr(t, err, tc.code, tc.prm)
			switch {
			case tc.code != "":
			case tc.none && got != nil:
				t.Fatalf("body %q, want none", *got)
			case !tc.none && (got == nil || string(*got) != tc.want):
				t.Fatalf("body %v, want %q", got, tc.want)
			}
		})
	}
}

// TestInboundRules: the ingest URL's cap, the list filters and the filter
// tester, as the API and the dashboard both get them.
func TestInboundRules(t *testing.T) {
	t.Parallel()
	a, store, _ := newApp(t)
	ctx := t.Context()
	src, _ := captured(t, a, ctx)

	t.Run("announced body over the cap", func(t *testing.T) {
		_, err := a.AdmitInbound(ctx, src, "127.0.0.1:1", 1025, 1024)
		wantErr(t, err, hookline.ETOOLARGE, "")
		if !strings.Contains(hookline.ErrorMessage(err), "1 KiB") {
			t.Fatalf("message %q does not state the cap", hookline.ErrorMessage(err))
		}
	})
	t.Run("body within the cap", func(t *testing.T) {
		ticket, err := a.AdmitInbound(ctx, src, "127.0.0.1:1", 1024, 1024)
		if err != nil {
			t.Fatal(err)
		}
		ticket.Done(0)
	})
	t.Run("ingest source by id only", func(t *testing.T) {
		if _, err := a.IngestSource(ctx, src.ID); err != nil {
			t.Fatal(err)
		}
		_, err := a.IngestSource(ctx, src.Name)
		wantErr(t, err, hookline.ENOTFOUND, "id")
	})

	for _, tc := range []struct {
		name      string
		f         hookline.RequestFilter
		code, prm string
		n         int
	}{
		{name: "bad status", f: hookline.RequestFilter{Status: "pending"}, code: hookline.EINVALID, prm: "status"},
		{name: "by name", f: hookline.RequestFilter{SourceID: src.Name}, n: 1},
		{name: "unknown name", f: hookline.RequestFilter{SourceID: "nosuch"}, code: hookline.ENOTFOUND, prm: "id"},
		{name: "accepted", f: hookline.RequestFilter{SourceID: src.ID, Status: hookline.RequestAccepted}, n: 1},
		{name: "rejected", f: hookline.RequestFilter{SourceID: src.ID, Status: hookline.RequestRejected}, n: 0},
	} {
		t.Run("list "+tc.name, func(t *testing.T) {
			list, _, err := a.ListRequests(ctx, app.RequestQuery{RequestFilter: tc.f})
			wantErr(t, err, tc.code, tc.prm)
			if tc.code == "" && len(list) != tc.n {
				t.Fatalf("%d requests, want %d", len(list), tc.n)
			}
		})
	}
	t.Run("list a deleted source's requests by its id", func(t *testing.T) {
		if err := store.DeleteSource(ctx, src.ID); err != nil {
			t.Fatal(err)
		}
		list, _, err := a.ListRequests(ctx, app.RequestQuery{RequestFilter: hookline.RequestFilter{SourceID: src.ID}, GoneSources: true})
		if err != nil || len(list) != 1 {
			t.Fatalf("%d requests, %v; want the deleted source's one", len(list), err)
		}
		// Without GoneSources, as the API asks, the id is unknown: a
		// mistyped id is a 404, not an empty list.
		_, _, err = a.ListRequests(ctx, app.RequestQuery{RequestFilter: hookline.RequestFilter{SourceID: src.ID}})
		wantErr(t, err, hookline.ENOTFOUND, "id")
		list, _, err = a.ListRequests(ctx, app.RequestQuery{RequestFilter: hookline.RequestFilter{SourceID: "nosuch"}, GoneSources: true})
		if err != nil || len(list) != 0 {
			t.Fatalf("%d requests, %v; want none for a name no source has", len(list), err)
		}
	})

	for _, tc := range []struct {
		name      string
		filter    string
		ev        *app.FilterEvent
		code, prm string
		matches   bool
	}{
		{name: "no event", filter: `{"data.plan": {"equals": "pro"}}`, code: hookline.EINVALID, prm: "event"},
		{name: "no filter", filter: ``, ev: &app.FilterEvent{Type: "a.b"}, code: hookline.EINVALID, prm: "filter"},
		{name: "null filter", filter: `null`, ev: &app.FilterEvent{Type: "a.b"}, code: hookline.EINVALID, prm: "filter"},
		{name: "event without a type", filter: `{}`, ev: &app.FilterEvent{Data: []byte(`{}`)}, code: hookline.EINVALID, prm: "event.type"},
		{name: "the empty filter takes everything", filter: `{}`, ev: &app.FilterEvent{Type: "a.b"}, matches: true},
		{name: "bad filter named before the missing event", filter: `{"data.plan": {"near": "pro"}}`, code: hookline.EINVALID},
		{name: "matches", filter: `{"data.plan": {"equals": "pro"}}`, ev: &app.FilterEvent{Type: "a.b", Data: []byte(`{"plan": "pro"}`)}, matches: true},
		{name: "does not match", filter: `{"data.plan": {"equals": "pro"}}`, ev: &app.FilterEvent{Type: "a.b", Data: []byte(`{"plan": "free"}`)}},
		{name: "data not an object", filter: `{}`, ev: &app.FilterEvent{Type: "a.b", Data: []byte(`[1]`)}, code: hookline.EINVALID, prm: "event.data"},
	} {
		t.Run("filter "+tc.name, func(t *testing.T) {
			ok, reasons, err := a.TestFilter([]byte(tc.filter), tc.ev)
			if tc.code != "" {
				if hookline.ErrorCode(err) != tc.code || (tc.prm != "" && hookline.ErrorParam(err) != tc.prm) || (tc.prm == "" && hookline.ErrorParam(err) == "event") {
					t.Fatalf("error %v (param %q), want %s %q", err, hookline.ErrorParam(err), tc.code, tc.prm)
				}
				return
			}
			if err != nil || ok != tc.matches || ok == (len(reasons) > 0) {
				t.Fatalf("matches %v, reasons %v, err %v; want matches %v", ok, reasons, err, tc.matches)
			}
		})
	}
	// As an endpoint would save it, for the dashboard's form: an empty
	// box is no filter and takes every event; the rest is TestFilter's.
	for _, tc := range []struct {
		name, filter string
		ev           *app.FilterEvent
		prm          string
		matches      bool
	}{
		{name: "no filter takes everything", filter: ``, ev: &app.FilterEvent{Type: "a.b"}, matches: true},
		{name: "null takes everything", filter: `null`, ev: &app.FilterEvent{Type: "a.b", Data: []byte(`{"plan": "free"}`)}, matches: true},
		{name: "no filter still needs an event", filter: ``, prm: "event"},
		{name: "a filter judged as TestFilter does", filter: `{"data.plan": "pro"}`, ev: &app.FilterEvent{Type: "a.b", Data: []byte(`{"plan": "free"}`)}},
		{name: "a bad filter refused", filter: `{"data.plan": {"near": "pro"}}`, ev: &app.FilterEvent{Type: "a.b"}, prm: "filter"},
	} {
		t.Run("saved filter "+tc.name, func(t *testing.T) {
			ok, reasons, err := a.TestFilterAsSaved([]byte(tc.filter), tc.ev)
			if tc.prm != "" {
				wantErr(t, err, hookline.EINVALID, tc.prm)
				return
			}
			if err != nil || ok != tc.matches || ok == (len(reasons) > 0) {
				t.Fatalf("matches %v, reasons %v, err %v; want matches %v", ok, reasons, err, tc.matches)
			}
		})
	}
}

// TestRecoverRange: the API's recover and the dashboard's bulk resend
// check their range in one place.
func TestRecoverRange(t *testing.T) {
	t.Parallel()
	a, _, _ := newApp(t)
	url := "http://127.0.0.1:9/hook"
	ep, _, err := a.CreateEndpoint(t.Context(), app.EndpointParams{URL: &url}, app.ByAPI)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, tc := range []struct {
		name         string
		id           string
		since, until time.Time
		code, prm    string
	}{
		{name: "no start", id: ep.ID, code: hookline.EINVALID, prm: "since"},
		{name: "start after end", id: ep.ID, since: now.Add(-time.Hour), until: now.Add(-2 * time.Hour), code: hookline.EINVALID, prm: "since"},
		{name: "start equals end", id: ep.ID, since: now.Add(-time.Hour), until: now.Add(-time.Hour), code: hookline.EINVALID, prm: "since"},
		{name: "too far back", id: ep.ID, since: now.Add(-app.MaxRecoverWindow - time.Hour), code: hookline.EINVALID, prm: "since"},
		{name: "unknown endpoint", id: "ep_missing", since: now.Add(-time.Hour), code: hookline.ENOTFOUND, prm: "id"},
		// A valid range reaches the job runner, which this node lacks.
		{name: "valid range", id: ep.ID, since: now.Add(-time.Hour), code: hookline.EUNAVAILABLE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Recover(t.Context(), tc.id, tc.since, tc.until)
			wantErr(t, err, tc.code, tc.prm)
		})
	}
}

func TestTailFilter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                 string
		endpoint, typ, state string
		code, prm            string
		// what the filter keeps of an attempt to ep_1 at invoice.paid
		// that failed, and of one that succeeded
		keepsFailed, keepsSucceeded bool
	}{
		{name: "everything", keepsFailed: true, keepsSucceeded: true},
		{name: "all", state: "all", keepsFailed: true, keepsSucceeded: true},
		{name: "failed", state: "failed", keepsFailed: true},
		{name: "bad status", state: "ok", code: hookline.EINVALID, prm: "status"},
		{name: "pattern", typ: "invoice.*", keepsFailed: true, keepsSucceeded: true},
		{name: "other type", typ: "charge.*"},
		{name: "bad type", typ: "in voice", code: hookline.EINVALID, prm: "type"},
		{name: "endpoint", endpoint: "ep_1", keepsFailed: true, keepsSucceeded: true},
		{name: "other endpoint", endpoint: "ep_2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := app.ParseTailFilter(tc.endpoint, tc.typ, tc.state)
			wantErr(t, err, tc.code, tc.prm)
			if tc.code != "" {
				return
			}
			if got := f.Match("ep_1", "invoice.paid", false); got != tc.keepsFailed {
				t.Errorf("keeps the failed attempt: %v, want %v", got, tc.keepsFailed)
			}
			if got := f.Match("ep_1", "invoice.paid", true); got != tc.keepsSucceeded {
				t.Errorf("keeps the succeeded attempt: %v, want %v", got, tc.keepsSucceeded)
			}
		})
	}
}
