package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/server"
)

// routePath turns a pattern's path into a request path: wildcards become
// ids that exist nowhere.
func routePath(path string) string {
	r := strings.NewReplacer("{$}", "", "{id}", "x_nope", "{name}", "laptop", "{rest...}", "a/b")
	return r.Replace(path)
}

// TestRouteMap walks every route of the route map on a running node:
// without credentials each answers as its access says (an API route 401
// with a JSON error, a dashboard page a redirect to the sign-in page, a
// dashboard form 401, a public route its own answer), and a method the path
// has no route for is answered 405 with Allow naming the ones it has (under
// /v1/, with the API's JSON error).
func TestRouteMap(t *testing.T) {
	t.Parallel()
	base, _ := serve(t, "hl_sk_routes_routes_routes", io.Discard)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	// What each public route answers a stranger.
	publicStatus := map[string]int{
		"GET /healthz": 200, "GET /metrics": 200, "GET /static/": 404, "GET /login": 200,
		"GET /.well-known/webhook-keys": 200,                            // public keys, for anyone
		"POST /login":                   401,                            // no key is a wrong key
		"/in/{id}":                      404, "/in/{id}/{rest...}": 404, // no such source
	}
	routes := server.Routes()
	methods := map[string][]string{} // path pattern → its methods
	for _, r := range routes {
		if m, p, ok := strings.Cut(r.Pattern, " "); ok {
			methods[p] = append(methods[p], m)
		}
	}
	if len(routes) < 70 {
		t.Fatalf("the route map has %d routes; expected every route of the server", len(routes))
	}
	for _, r := range routes {
		method, pattern, ok := strings.Cut(r.Pattern, " ")
		if !ok {
			method, pattern = "POST", r.Pattern
		}
		path := routePath(pattern)
		if pattern == "/static/" {
			path = "/static/nothing-here"
		}
		t.Run(r.Pattern, func(t *testing.T) {
			resp := do(method, path)
			switch r.Access {
			case "key":
				var e struct {
					Error struct{ Code string } `json:"error"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&e)
				if resp.StatusCode != 401 || e.Error.Code != "unauthorized" {
					t.Errorf("%s %s without a key: %d %q, want 401 unauthorized", method, path, resp.StatusCode, e.Error.Code)
				}
			case "session":
				want := 401
				if method == "GET" {
					want = http.StatusSeeOther
				}
				if resp.StatusCode != want || (want == http.StatusSeeOther && !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=")) {
					t.Errorf("%s %s without a session: %d to %q, want %d (GET: to /login)", method, path, resp.StatusCode, resp.Header.Get("Location"), want)
				}
			case "public":
				want, ok := publicStatus[r.Pattern]
				if !ok {
					t.Fatalf("public route %s has no expected answer in this test", r.Pattern)
				}
				if resp.StatusCode != want {
					t.Errorf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
				}
			default:
				t.Fatalf("route %s: unknown access %q", r.Pattern, r.Access)
			}

			have := methods[pattern]
			if len(have) == 0 {
				return // any method is this route's
			}
			i := slices.IndexFunc([]string{"DELETE", "PUT", "PATCH", "POST", "GET"}, func(m string) bool { return !slices.Contains(have, m) })
			wrong := []string{"DELETE", "PUT", "PATCH", "POST", "GET"}[i]
			resp = do(wrong, path)
			allow := resp.Header.Get("Allow")
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Fatalf("%s %s: %d, want 405", wrong, path, resp.StatusCode)
			}
			for _, m := range have {
				if !strings.Contains(allow, m) {
					t.Errorf("%s %s: Allow %q does not name %s", wrong, path, allow, m)
				}
			}
			// The API answers it in its JSON error shape.
			if strings.HasPrefix(path, "/v1/") {
				var e struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Code != "method_not_allowed" || !strings.Contains(e.Error.Message, allow) {
					t.Errorf("%s %s: 405 body %+v (%v), want the JSON error method_not_allowed naming %q", wrong, path, e, err, allow)
				}
			}
		})
	}
	// A path no route has stays a JSON 404 under /v1/, behind the key.
	if resp := do("GET", "/v1/nothing"); resp.StatusCode != 401 {
		t.Errorf("GET /v1/nothing without a key: %d, want 401", resp.StatusCode)
	}
}
