package dashboard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// newTestDashboard serves a dashboard on a real SQLite store.
func newTestDashboard(t *testing.T) (*Dashboard, *httptest.Server) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := New(Config{App: app.New(app.Config{Store: st}), CheckKey: func(k string) bool { return k == "right-key-0123456789" },
		SessionKey: []byte(strings.Repeat("k", 32))})
	// The routes these tests visit, mounted as the server's route map
	// mounts them (internal/server/routes.go).
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", d.Login)
	mux.Handle("POST /logout", d.RequireSession(http.HandlerFunc(d.Logout)))
	for pattern, h := range map[string]func(http.ResponseWriter, *http.Request) error{
		"GET /endpoints": d.Endpoints, "GET /requests": d.Requests, "GET /requests/{id}": d.Request,
		"GET /requests/{id}/raw": d.RawRequest, "GET /events/{id}": d.Event,
	} {
		mux.Handle(pattern, d.RequireSession(d.Handle(h)))
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return d, srv
}

func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestSessionAndCSRF(t *testing.T) {
	t.Parallel()
	d, srv := newTestDashboard(t)
	c := noRedirects()

	resp, err := c.PostForm(srv.URL+"/login", url.Values{"key": {"right-key-0123456789"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == CookieName {
			cookie = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || cookie == nil {
		t.Fatalf("sign-in: %s, cookie %v", resp.Status, cookie)
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie flags: HttpOnly %v SameSite %v", cookie.HttpOnly, cookie.SameSite)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(cookie)
	token := d.CSRF(req)

	tampered := *cookie
	tampered.Value = strings.Replace(cookie.Value, ".", "x.", 1)
	cases := []struct {
		name   string
		method string
		cookie *http.Cookie
		form   url.Values
		want   int
	}{
		{"page without a session", "GET", nil, nil, http.StatusSeeOther},
		{"page with a tampered cookie", "GET", &tampered, nil, http.StatusSeeOther},
		{"page with the session", "GET", cookie, nil, http.StatusOK},
		{"form without a session", "POST", nil, url.Values{"csrf": {token}}, http.StatusUnauthorized},
		{"form without a token", "POST", cookie, url.Values{}, http.StatusForbidden},
		{"form with a wrong token", "POST", cookie, url.Values{"csrf": {"nope"}}, http.StatusForbidden},
		{"form with the token", "POST", cookie, url.Values{"csrf": {token}}, http.StatusSeeOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/endpoints"
			var body *strings.Reader
			if tc.method == "POST" {
				path = "/logout"
				body = strings.NewReader(tc.form.Encode())
			} else {
				body = strings.NewReader("")
			}
			req, _ := http.NewRequest(tc.method, srv.URL+path, body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.cookie != nil {
				req.AddCookie(tc.cookie)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s: %s, want %d", tc.method, path, resp.Status, tc.want)
			}
		})
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "/", "/events": "/events", "/events/evt_1?flash=ok#top": "/events/evt_1?flash=ok#top",
		"//evil.test/x": "/", "https://evil.test": "/", `/\evil.test`: "/", "events": "/",
		"/\t/evil.example": "/", "/\n/evil.example": "/", "/\r\n/evil.example": "/", "/ /evil.example": "/",
		"/\x00/evil.example": "/", "/\x7f/evil.example": "/", "/\u00a0/evil.example": "/", "/\u2028/evil.example": "/",
		`/x\y`: "/", "/\xff": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSignInRedirectStaysOnHost signs in with next values that browsers
// would resolve off the site, and resolves each Location the way a browser
// does (tabs and newlines dropped, "\\" read as "/").
func TestSignInRedirectStaysOnHost(t *testing.T) {
	t.Parallel()
	_, srv := newTestDashboard(t)
	base, _ := url.Parse(srv.URL)
	c := noRedirects()
	for _, next := range []string{"/%09/evil.example", "/%0a/evil.example", "/%0d%0a/evil.example", "/%5c/evil.example",
		"/%5cevil.example", "/%20/evil.example", "//evil.example", "/%09%5c/evil.example", "/%e2%80%a8/evil.example"} {
		t.Run(next, func(t *testing.T) {
			raw, err := url.QueryUnescape(next)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.PostForm(srv.URL+"/login", url.Values{"key": {"right-key-0123456789"}, "next": {raw}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %s", resp.Status)
			}
			browserLoc := strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(loc)
			u, err := base.Parse(browserLoc)
			if err != nil {
				t.Fatalf("Location %q: %v", loc, err)
			}
			if u.Host != base.Host {
				t.Fatalf("next=%s: Location %q leads to %s, off %s", next, loc, u.Host, base.Host)
			}
		})
	}
}
