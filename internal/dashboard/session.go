package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CookieName is the session cookie's name.
const CookieName = "hookline_session"

// sessionTTL is how long a sign-in lasts.
const sessionTTL = 12 * time.Hour

// session is a signed-in browser.
type session struct {
	id      string
	expires time.Time
}

// sign returns the MAC of msg under the session key, for purpose.
func (d *Dashboard) sign(purpose, msg string) string {
	m := hmac.New(sha256.New, d.cfg.SessionKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newSessionCookie starts a session and returns its cookie.
func (d *Dashboard) newSessionCookie() *http.Cookie {
	id := rand.Text()
	exp := d.app.Now().Add(sessionTTL)
	v := id + "." + strconv.FormatInt(exp.Unix(), 10)
	return d.cookie(v+"."+d.sign("session", v), exp)
}

func (d *Dashboard) cookie(value string, exp time.Time) *http.Cookie {
	return &http.Cookie{
		Name: CookieName, Value: value, Path: "/", Expires: exp,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: d.cfg.Secure,
	}
}

// session returns the request's valid session.
func (d *Dashboard) session(r *http.Request) (session, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return session{}, false
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return session{}, false
	}
	v := parts[0] + "." + parts[1]
	if subtle.ConstantTimeCompare([]byte(parts[2]), []byte(d.sign("session", v))) != 1 {
		return session{}, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !d.app.Now().Before(time.Unix(exp, 0)) {
		return session{}, false
	}
	return session{id: parts[0], expires: time.Unix(exp, 0)}, true
}

// CSRF returns the CSRF token of the request's session ("" without one):
// forms carry it in a hidden field named "csrf". It is a MAC of the
// session id, so it needs no storage and dies with the session.
func (d *Dashboard) CSRF(r *http.Request) string {
	s, ok := d.session(r)
	if !ok {
		return ""
	}
	return d.sign("csrf", s.id)
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

// RequireSession wraps h: without a valid session a GET is redirected to
// the sign-in page and anything else gets 401; a POST without its CSRF
// token gets 403.
func (d *Dashboard) RequireSession(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := d.session(r); !ok {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if !d.checkCSRF(r) {
				http.Error(w, "the form's CSRF token is missing or stale: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
