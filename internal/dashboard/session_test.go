package dashboard

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// testDashboard is a dashboard and, for the tests' fixtures, the store
// under its application (the dashboard itself reads only through it).
type testDashboard struct {
	*Dashboard
	store hookline.Store
}

// newTestDashboard serves a dashboard on a real SQLite store.
func newTestDashboard(t *testing.T) (*testDashboard, *httptest.Server) {
	t.Helper()
	return newTestDashboardAt(t, filepath.Join(t.TempDir(), "db"), time.Now)
}

// newTestDashboardAt serves a dashboard on a real SQLite store at path,
// with the application's clock now.
func newTestDashboardAt(t *testing.T, path string, now func() time.Time) (*testDashboard, *httptest.Server) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := New(Config{App: app.New(app.Config{Store: st, Now: now, AdminKeyID: "test-key"}),
		CheckKey: func(k string) bool { return k == "right-key-0123456789" }})
	// The routes these tests visit, mounted as the server's route map
	// mounts them (internal/server/routes.go).
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", d.LoginPage)
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
	return &testDashboard{Dashboard: d, store: st}, srv
}

// signIn starts a session as a sign-in does and returns its cookie.
func signIn(t *testing.T, d *testDashboard) *http.Cookie {
	t.Helper()
	token, expires, err := d.app.StartSession(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d.cookie(httptest.NewRequest("GET", "/", nil), token, expires)
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
	tampered.Value = cookie.Value[:len(cookie.Value)-1] + "x"
	cases := []struct {
		name   string
		method string
		cookie *http.Cookie
		form   url.Values
		want   int
		// code is the error table's code the error page shows.
		code string
	}{
		{"page without a session", "GET", nil, nil, http.StatusSeeOther, ""},
		{"page with a tampered cookie", "GET", &tampered, nil, http.StatusSeeOther, ""},
		{"page with the session", "GET", cookie, nil, http.StatusOK, ""},
		{"form without a session", "POST", nil, url.Values{"csrf": {token}}, http.StatusUnauthorized, hookline.EUNAUTHORIZED},
		{"form without a token", "POST", cookie, url.Values{}, http.StatusForbidden, hookline.EFORBIDDEN},
		{"form with a wrong token", "POST", cookie, url.Values{"csrf": {"nope"}}, http.StatusForbidden, hookline.EFORBIDDEN},
		{"form with the token", "POST", cookie, url.Values{"csrf": {token}}, http.StatusSeeOther, ""},
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
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s: %s, want %d", tc.method, path, resp.Status, tc.want)
			}
			if tc.code != "" && (!bytes.Contains(page, []byte("<code>"+tc.code+"</code>")) ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html")) {
				t.Fatalf("%s %s: not the error page of %s:\n%s", tc.method, path, tc.code, page)
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

// signInByForm signs in through POST /login and returns the cookie.
func signInByForm(t *testing.T, c *http.Client, base string) *http.Cookie {
	t.Helper()
	resp, err := c.PostForm(base+"/login", url.Values{"key": {"right-key-0123456789"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == CookieName && ck.Value != "" {
			return ck
		}
	}
	t.Fatalf("sign-in: %s and no session cookie", resp.Status)
	return nil
}

// pageWith GETs path with cookie, following redirects, and returns the
// final URL's path and the page.
func pageWith(t *testing.T, base, path string, cookie *http.Cookie) (string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req) // follows redirects; the cookie stays on the first request only
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", path, resp.Status, err)
	}
	return resp.Request.URL.Path, string(b)
}

// isSignInPage reports whether a page is the sign-in form.
func isSignInPage(path, page string) bool {
	return path == "/login" && strings.Contains(page, `name="key"`)
}

// TestSignedOutCookieGetsSignInPage signs in, signs out, and replays the
// cookie a browser (or a thief) kept: the server has ended the session, so
// the cookie leads to the sign-in page.
func TestSignedOutCookieGetsSignInPage(t *testing.T) {
	t.Parallel()
	d, srv := newTestDashboard(t)
	c := noRedirects()
	cookie := signInByForm(t, c, srv.URL)
	if path, page := pageWith(t, srv.URL, "/endpoints", cookie); isSignInPage(path, page) {
		t.Fatal("a fresh session got the sign-in page")
	}

	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(cookie)
	form := url.Values{"csrf": {d.CSRF(req)}}
	out, _ := http.NewRequest("POST", srv.URL+"/logout", strings.NewReader(form.Encode()))
	out.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	out.AddCookie(cookie)
	resp, err := c.Do(out)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %s", resp.Status)
	}

	if path, page := pageWith(t, srv.URL, "/endpoints", cookie); !isSignInPage(path, page) {
		t.Fatalf("the signed-out cookie reached %s, not the sign-in page", path)
	}
	// Its forms are refused too, whatever token they carry.
	out, _ = http.NewRequest("POST", srv.URL+"/logout", strings.NewReader(form.Encode()))
	out.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	out.AddCookie(cookie)
	if resp, err = c.Do(out); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a form with the signed-out cookie: %s, want 401", resp.Status)
	}
}

// TestExpiredSessionRefused: the server, not the cookie's Expires,
// decides when a session ends.
func TestExpiredSessionRefused(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	_, srv := newTestDashboardAt(t, filepath.Join(t.TempDir(), "db"), func() time.Time { return time.Unix(0, now.Load()) })
	cookie := signInByForm(t, noRedirects(), srv.URL)
	if path, page := pageWith(t, srv.URL, "/endpoints", cookie); isSignInPage(path, page) {
		t.Fatal("a fresh session got the sign-in page")
	}
	now.Add(int64(app.SessionTTL - time.Second))
	if path, page := pageWith(t, srv.URL, "/endpoints", cookie); isSignInPage(path, page) {
		t.Fatal("a session a second before its expiry got the sign-in page")
	}
	now.Add(int64(2 * time.Second))
	cookie.Expires = time.Time{} // as a browser that kept it longer would send it
	if path, page := pageWith(t, srv.URL, "/endpoints", cookie); !isSignInPage(path, page) {
		t.Fatalf("the expired session reached %s, not the sign-in page", path)
	}
}

// TestDatabaseHoldsNoSessionToken reads every file of the store after a
// sign-in: the token is nowhere in them, and what is there (its hash) is
// no cookie.
func TestDatabaseHoldsNoSessionToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, srv := newTestDashboardAt(t, filepath.Join(dir, "db"), time.Now)
	cookie := signInByForm(t, noRedirects(), srv.URL)
	if path, page := pageWith(t, srv.URL, "/endpoints", cookie); isSignInPage(path, page) {
		t.Fatal("a fresh session got the sign-in page")
	}
	sum := sha256.Sum256([]byte(cookie.Value))
	stored := hex.EncodeToString(sum[:])
	var all []byte
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil {
			all = append(all, b...)
		}
	}
	if !bytes.Contains(all, []byte(stored)) {
		t.Fatalf("the session's hash is not in %v: the test would prove nothing", files)
	}
	if bytes.Contains(all, []byte(cookie.Value)) {
		t.Fatal("the database holds the session token")
	}
	forged := *cookie
	forged.Value = stored
	if path, page := pageWith(t, srv.URL, "/endpoints", &forged); !isSignInPage(path, page) {
		t.Fatalf("a cookie made of the stored hash reached %s", path)
	}
}

// TestSignInAgainEndsOldSession signs in with a live session's cookie:
// the browser gets a new session and the old cookie stops working, so a
// copy of it taken before is worth nothing (review of issue 20, finding 5).
func TestSignInAgainEndsOldSession(t *testing.T) {
	t.Parallel()
	_, srv := newTestDashboard(t)
	c := noRedirects()
	old := signInByForm(t, c, srv.URL)

	req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(url.Values{"key": {"right-key-0123456789"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(old)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var renewed *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == CookieName && ck.Value != "" {
			renewed = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || renewed == nil || renewed.Value == old.Value {
		t.Fatalf("signing in again: %s, cookie %v; want 303 and a new session", resp.Status, renewed)
	}
	if path, page := pageWith(t, srv.URL, "/endpoints", renewed); isSignInPage(path, page) {
		t.Fatal("the new session got the sign-in page")
	}
	if path, page := pageWith(t, srv.URL, "/endpoints", old); !isSignInPage(path, page) {
		t.Fatalf("the replaced session still reaches %s", path)
	}
}
