package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/server"
	"github.com/hookline/hookline/internal/testutil"
)

// apiError is the API's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param"`
	} `json:"error"`
}

// TestSourceSecretOnItsOwnRoute: no source answer but its secret's route
// carries the secret (issue 20, finding 8).
func TestSourceSecretOnItsOwnRoute(t *testing.T) {
	t.Parallel()
	const key = "hl_sk_source_secret_0123456789"
	const secret = "whsec_c291cmNlLXNlY3JldC1vZi1zdHJpcGU="
	base, _ := serve(t, key, io.Discard)
	raw := func(method, path string, body any) (int, string) {
		var out json.RawMessage
		code := call(t, base, key, method, path, body, nil, &out)
		return code, string(out)
	}
	code, created := raw("POST", "/v1/sources", map[string]any{"name": "stripe", "type": "stripe", "secret": secret})
	if code != 201 {
		t.Fatalf("creating: %d %s", code, created)
	}
	var src struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal([]byte(created), &src)
	answers := map[string]string{"create": created}
	_, answers["get"] = raw("GET", "/v1/sources/"+src.ID, nil)
	_, answers["get by name"] = raw("GET", "/v1/sources/stripe", nil)
	_, answers["list"] = raw("GET", "/v1/sources", nil)
	_, answers["update"] = raw("PATCH", "/v1/sources/"+src.ID, map[string]any{"secret": secret})
	for what, body := range answers {
		if !strings.Contains(body, src.ID) {
			t.Fatalf("%s: %s does not show the source; the check would prove nothing", what, body)
		}
		if strings.Contains(body, "c291cmNl") || strings.Contains(body, `"secret"`) {
			t.Errorf("%s answers the secret: %s", what, body)
		}
	}
	for _, id := range []string{src.ID, "stripe"} {
		var got struct {
			Object, SourceID, Secret string
		}
		if code := call(t, base, key, "GET", "/v1/sources/"+id+"/secret", nil, nil, &got); code != 200 ||
			got.Secret != secret || got.Object != "source_secret" {
			t.Fatalf("GET /v1/sources/%s/secret: %d %+v", id, code, got)
		}
	}
	var e apiError
	if code := call(t, base, key, "GET", "/v1/sources/src_missing/secret", nil, nil, &e); code != 404 {
		t.Fatalf("an unknown source's secret: %d %+v", code, e)
	}
	if code := call(t, base, "hl_sk_wrong_key_0123456789", "GET", "/v1/sources/"+src.ID+"/secret", nil, nil, &e); code != 401 {
		t.Fatalf("the secret without the key: %d", code)
	}
}

// TestToleranceBounded: tolerance_seconds past an hour is a 400 naming it.
func TestToleranceBounded(t *testing.T) {
	t.Parallel()
	const key = "hl_sk_tolerance_0123456789"
	base, _ := serve(t, key, io.Discard)
	for _, tol := range []int64{3601, 315360000} {
		var e apiError
		code := call(t, base, key, "POST", "/v1/sources", map[string]any{"name": "slack", "type": "slack", "secret": "s3cret",
			"options": map[string]any{"tolerance_seconds": tol}}, nil, &e)
		if code != 400 || e.Error.Param != "options.tolerance_seconds" {
			t.Fatalf("tolerance_seconds %d: %d %+v, want 400 on options.tolerance_seconds", tol, code, e)
		}
	}
	var src struct{ ID string }
	if code := call(t, base, key, "POST", "/v1/sources", map[string]any{"name": "slack", "type": "slack", "secret": "s3cret",
		"options": map[string]any{"tolerance_seconds": 3600}}, nil, &src); code != 201 {
		t.Fatalf("an hour's tolerance: %d", code)
	}
	var e apiError
	if code := call(t, base, key, "PATCH", "/v1/sources/"+src.ID, map[string]any{"options": map[string]any{"tolerance_seconds": 86400}}, nil, &e); code != 400 ||
		e.Error.Param != "options.tolerance_seconds" {
		t.Fatalf("updating to a day's tolerance: %d %+v", code, e)
	}
}

// TestPublishRejectsInvalidUTF8: data that is JSON but not UTF-8 is a 400
// naming data at POST /v1/events (the one route that publishes: there is
// no batch route), and an object whose text is not UTF-8 is told so, not
// that it is no object.
func TestPublishRejectsInvalidUTF8(t *testing.T) {
	t.Parallel()
	const key = "hl_sk_utf8_utf8_0123456789"
	base, _ := serve(t, key, io.Discard)
	for _, body := range []string{
		"{\"type\": \"a.b\", \"data\": {\"name\": \"\xff\"}}",
		"{\"type\": \"a.b\", \"data\": {\"\xc3\x28\": 1}}",
		"{\"type\": \"a.b\", \"data\": {\"k\": \"\xed\xa0\x80\"}}", // a UTF-16 surrogate, encoded
	} {
		if msg := wantInvalid(t, base, key, "POST", "/v1/events", body, "data"); !strings.Contains(msg, "not valid UTF-8") {
			t.Errorf("POST /v1/events %q answers %q, want it to say the data is not valid UTF-8", body, msg)
		}
	}
	// Data that is no object, UTF-8 or not, is still told so.
	for _, body := range []string{"{\"type\": \"a.b\", \"data\": [1]}", "{\"type\": \"a.b\", \"data\": \"\xed\xa0\x80\"}"} {
		if msg := wantInvalid(t, base, key, "POST", "/v1/events", body, "data"); msg != "data must be a JSON object" {
			t.Errorf("POST /v1/events %q answers %q, want data must be a JSON object", body, msg)
		}
	}
	var ok struct{ ID string }
	if code := call(t, base, key, "POST", "/v1/events", map[string]any{"type": "a.b", "data": map[string]string{"name": "Zoë ✓"}}, nil, &ok); code != 201 {
		t.Fatalf("publishing UTF-8: %d", code)
	}
}

// wantInvalid sends the raw JSON body and wants a 400 naming param; it
// returns the error's message.
func wantInvalid(t *testing.T, base, key, method, path, body, param string) string {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e apiError
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 400 || e.Error.Param != param {
		t.Errorf("%s %s %q: %d %+v, want 400 on %s", method, path, body, resp.StatusCode, e, param)
	}
	return e.Error.Message
}

// TestFiltersRejectInvalidUTF8: a filter is stored as written, and
// PostgreSQL refuses text that is not UTF-8, so an endpoint's or a
// connection's filter with such bytes is a 400 naming filter on either
// store, never a 500 (review of issue 20, finding 3).
func TestFiltersRejectInvalidUTF8(t *testing.T) {
	t.Parallel()
	const key = "hl_sk_utf8_filter_0123456789"
	base, _ := serve(t, key, io.Discard)
	var src struct{ ID string }
	if code := call(t, base, key, "POST", "/v1/sources", map[string]any{"name": "utf8"}, nil, &src); code != 201 {
		t.Fatalf("creating a source: %d", code)
	}
	var ep, con struct{ ID string }
	if code := call(t, base, key, "POST", "/v1/endpoints", map[string]any{"url": "http://127.0.0.1:9/hook"}, nil, &ep); code != 201 {
		t.Fatalf("creating an endpoint: %d", code)
	}
	if code := call(t, base, key, "POST", "/v1/connections", map[string]any{"source_id": src.ID, "url": "http://127.0.0.1:9/hook"}, nil, &con); code != 201 {
		t.Fatalf("creating a connection: %d", code)
	}
	for _, filter := range []string{"{\"data.x\": \"\xff\"}", "{\"data.\xc3\x28\": {\"exists\": true}}"} {
		wantInvalid(t, base, key, "POST", "/v1/endpoints", `{"url": "http://127.0.0.1:9/hook", "filter": `+filter+`}`, "filter")
		wantInvalid(t, base, key, "PATCH", "/v1/endpoints/"+ep.ID, `{"filter": `+filter+`}`, "filter")
		body := strings.ReplaceAll(filter, "data.", "body.")
		wantInvalid(t, base, key, "POST", "/v1/connections", `{"source_id": "`+src.ID+`", "url": "http://127.0.0.1:9/hook", "filter": `+body+`}`, "filter")
		wantInvalid(t, base, key, "PATCH", "/v1/connections/"+con.ID, `{"filter": `+body+`}`, "filter")
	}
}

// TestStaticListsNoFiles: /static/ serves its files and lists none.
func TestStaticListsNoFiles(t *testing.T) {
	t.Parallel()
	base, _ := serve(t, "hl_sk_static_static_0123456789", io.Discard)
	for path, want := range map[string]int{"/static/": 404, "/static/style.css": 200, "/static/app.js": 200,
		"/static/nothing-here": 404, "/static//": 404} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
		if strings.Contains(string(b), "app.js") && path != "/static/app.js" {
			t.Errorf("GET %s lists the files: %q", path, b)
		}
	}
}

// TestForwardedHeadersNeedTrustProxy: X-Forwarded-Host, -Proto and -For
// change nothing from an ordinary client; behind --trust-proxy they give
// the ingest URL's host and scheme and the address allowed_ips checks.
func TestForwardedHeadersNeedTrustProxy(t *testing.T) {
	t.Parallel()
	const key = "hl_sk_forwarded_0123456789"
	forwarded := map[string]string{"X-Forwarded-Host": "hooks.example", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
	for _, trust := range []bool{false, true} {
		t.Run(map[bool]string{false: "untrusted", true: "trust-proxy"}[trust], func(t *testing.T) {
			t.Parallel()
			cfg := server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Dev: true, APIKey: key,
				RetrySchedule: []time.Duration{time.Hour}}
			cfg.Inbound.TrustProxy = trust
			base, _ := testutil.Serve(t, cfg, io.Discard)
			var src struct {
				ID        string `json:"id"`
				IngestURL string `json:"ingest_url"`
			}
			if code := call(t, base, key, "POST", "/v1/sources", map[string]any{"name": "gate", "type": "none",
				"limits": map[string]any{"allowed_ips": []string{"203.0.113.7"}}}, forwarded, &src); code != 201 {
				t.Fatalf("creating: %d", code)
			}
			wantURL := base + "/in/" + src.ID
			if trust {
				wantURL = "https://hooks.example/in/" + src.ID
			}
			if src.IngestURL != wantURL {
				t.Errorf("ingest_url %q, want %q", src.IngestURL, wantURL)
			}
			post := func(hdr map[string]string) int {
				req, _ := http.NewRequest("POST", base+"/in/"+src.ID, strings.NewReader(`{}`))
				for k, v := range hdr {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if code := post(nil); code != 403 {
				t.Errorf("from 127.0.0.1, outside allowed_ips: %d, want 403", code)
			}
			want := 403
			if trust {
				want = 200
			}
			if code := post(forwarded); code != want {
				t.Errorf("X-Forwarded-For 203.0.113.7: %d, want %d", code, want)
			}
			// A client's claim before the proxy's own entry counts for nothing.
			if code := post(map[string]string{"X-Forwarded-For": "203.0.113.7, 198.51.100.1"}); code != 403 {
				t.Errorf("X-Forwarded-For with the allowed address first: %d, want 403", code)
			}

			// Signed in over HTTPS through the proxy, the session cookie is Secure.
			form := strings.NewReader(url.Values{"key": {key}}.Encode())
			req, _ := http.NewRequest("POST", base+"/login", form)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-Proto", "https")
			resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			cookies := resp.Cookies()
			if len(cookies) != 1 || cookies[0].Secure != trust {
				t.Errorf("sign-in with X-Forwarded-Proto https: cookies %v, want one, Secure %v", cookies, trust)
			}
		})
	}
}
