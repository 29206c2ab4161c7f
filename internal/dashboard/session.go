package dashboard

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/inbound"
)

// CookieName is the session cookie's name.
const CookieName = "hookline_session"

// session is a signed-in browser: the token its cookie carries, which the
// application layer has found to be a live session.
type session struct {
	token   string
	expires time.Time
}

// sessionKey is the request context key of the session RequireSession
// found, so that a page's CSRF token costs no second lookup.
type sessionKey struct{}

// cookie is the session cookie for r: Secure when the server speaks TLS,
// or when the browser reached it over HTTPS through a trusted proxy
// (inbound.BaseURL).
func (d *Dashboard) cookie(r *http.Request, value string, exp time.Time) *http.Cookie {
	return &http.Cookie{
		Name: CookieName, Value: value, Path: "/", Expires: exp, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: d.cfg.Secure || strings.HasPrefix(inbound.BaseURL(r), "https://"),
	}
}

// session returns the request's live session: the server keeps sessions
// (app.Session), so a signed-out, expired or forged cookie has none.
func (d *Dashboard) session(r *http.Request) (session, bool) {
	if s, ok := r.Context().Value(sessionKey{}).(session); ok {
		return s, true
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return session{}, false
	}
	s, err := d.app.Session(r.Context(), c.Value)
	if err != nil {
		if hookline.ErrorCode(err) != hookline.ENOTFOUND {
			d.cfg.Logger.Error("reading the dashboard session", "err", err)
		}
		return session{}, false
	}
	return session{token: c.Value, expires: s.Expires}, true
}

// CSRF returns the CSRF token of the request's session ("" without one):
// forms carry it in a hidden field named "csrf". It is a hash of the
// session's token, so it needs no storage and dies with the session; it
// differs from the hash the store keeps, and reveals nothing of the token.
func (d *Dashboard) CSRF(r *http.Request) string {
	s, ok := d.session(r)
	if !ok {
		return ""
	}
	sum := sha256.Sum256([]byte("hookline dashboard csrf\x00" + s.token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// checkCSRF reports whether a POST carries its session's token and, when
// the browser says where it came from, comes from this origin.
func (d *Dashboard) checkCSRF(r *http.Request) bool {
	want := d.CSRF(r)
	got := r.PostFormValue("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return false
	}
	// Belt and braces beside SameSite=Strict and the token.
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	return true
}

// RequireSession wraps h: without a live session a GET is redirected to
// the sign-in page and anything else gets 401; a POST without its CSRF
// token gets 403; a form or query value holding NUL gets 400 (formNUL).
func (d *Dashboard) RequireSession(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := d.session(r)
		if !ok {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			d.renderError(w, r, hookline.Errorf(hookline.EUNAUTHORIZED, "sign in first"))
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, s))
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if !d.checkCSRF(r) {
				d.renderError(w, r, hookline.Errorf(hookline.EFORBIDDEN, "the form's CSRF token is missing or stale: reload the page and try again"))
				return
			}
		}
		if err := formNUL(r); err != nil {
			d.renderError(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// formNUL refuses a request whose form (query and posted fields) holds a
// NUL character, naming the field: PostgreSQL stores no NUL (SQLite
// does), so every page is spared checking its own fields.
func formNUL(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return nil // each page reports its own malformed form
	}
	for _, name := range slices.Sorted(maps.Keys(r.Form)) {
		if strings.IndexByte(name, 0) >= 0 || slices.ContainsFunc(r.Form[name], func(v string) bool { return strings.IndexByte(v, 0) >= 0 }) {
			return hookline.Invalid(name, "the field %q contains a NUL character, which Hookline does not store", name)
		}
	}
	return nil
}
