package dashboard

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httperr"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the dashboard needs from the server.
type Config struct {
	// App is the application layer every form calls, as the API does.
	App *app.App
	// CheckKey reports whether a key is the admin API key (constant time).
	CheckKey func(key string) bool
	// Secure marks the session cookie Secure (serving over TLS).
	Secure bool
	// Nav adds links to the navigation bar after the built-in ones (the
	// inbound pages, when they exist).
	Nav []NavLink
	// TailRecheck is how often a live tail pings its browser and checks
	// its session again (signed out, admin key changed); 0 means every
	// 20 s.
	TailRecheck time.Duration
	Logger      *slog.Logger
}

// NavLink is an entry of the navigation bar.
type NavLink struct {
	Path  string // "/inbound"
	Label string
}

// Dashboard serves the web UI. Create it with New, mount its handlers
// (the server's route map does); its live tail watches the application's
// (app.Tail).
type Dashboard struct {
	cfg   Config
	app   *app.App
	pages map[string]*template.Template
	// static serves the embedded files (Static).
	static http.Handler
}

// New returns a dashboard. It panics if the embedded templates do not
// parse, which the tests catch.
func New(cfg Config) *Dashboard {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TailRecheck <= 0 {
		cfg.TailRecheck = 20 * time.Second
	}
	d := &Dashboard{cfg: cfg, app: cfg.App}
	files, _ := fs.Sub(staticFS, "static") // the directory is embedded: Sub cannot fail
	d.static = http.StripPrefix("/static/", cacheStatic(filesOnly(files, http.FileServerFS(files))))
	d.pages = parsePages()
	return d
}

func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t := template.Must(template.New("layout.html").Funcs(funcs).Funcs(template.FuncMap{"csrf": func() string { return "" }}).
			ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n))
		pages[base] = t
	}
	return pages
}

// Static serves the embedded CSS, JavaScript and images under /static/.
func (d *Dashboard) Static(w http.ResponseWriter, r *http.Request) { d.static.ServeHTTP(w, r) }

// filesOnly serves files of fsys with h and answers 404 for anything
// else, so that a directory is never listed (a FileServer lists one
// without an index.html).
func filesOnly(fsys fs.FS, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if info, err := fs.Stat(fsys, name); name == "" || err != nil || info.IsDir() {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		h.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Title   string
	Section string // the nav entry to highlight
	CSRF    string
	Nav     []NavLink
	Flash   string
	Error   string
	Data    any
}

// Render writes the named page template inside the layout, with data as
// .Data. Other packages' pages use it to look the same.
func (d *Dashboard) Render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) error {
	t, ok := d.pages[name]
	if !ok {
		return fmt.Errorf("rendering %s: no such page", name)
	}
	p := page{Title: title, Section: strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0],
		CSRF: d.CSRF(r), Nav: d.cfg.Nav, Flash: r.URL.Query().Get("flash"), Data: data}
	if e, ok := data.(interface{ formError() string }); ok {
		p.Error = e.formError()
	}
	// csrf is per request: a clone carries this request's token into
	// nested templates, which do not see the page's root.
	t, err := t.Clone()
	if err != nil {
		return fmt.Errorf("rendering %s: %w", name, err)
	}
	t.Funcs(template.FuncMap{"csrf": func() string { return p.CSRF }})
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		return fmt.Errorf("rendering %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, err = w.Write(buf.Bytes())
	return err
}

// Handle adapts a page handler that returns an error: the error is
// rendered as a page with the status and message the API would answer
// (internal/httperr); internal errors are logged.
func (d *Dashboard) Handle(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		if errors.Is(err, context.Canceled) {
			return
		}
		d.renderError(w, r, err)
	})
}

// renderError renders err as the error page, with the status, code and
// message the error table (internal/httperr) gives the API's answer.
func (d *Dashboard) renderError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := httperr.Of(err)
	if status == http.StatusInternalServerError {
		d.cfg.Logger.Error("dashboard", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if rerr := d.Render(w, r, status, "error", "Error", errorPage{Status: status, Code: body.Error.Code, Message: body.Error.Message}); rerr != nil {
		http.Error(w, body.Error.Message, status)
	}
}

type errorPage struct {
	Status  int
	Code    string
	Message string
}

// redirect sends the browser to path with a one-line notice.
func redirect(w http.ResponseWriter, r *http.Request, path, flash string) {
	if flash != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "flash=" + url.QueryEscape(flash)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// safeNext keeps a post-sign-in redirect on this site: a path that starts
// with one "/" and holds no control character, whitespace or backslash.
// Browsers drop tabs and newlines from a Location and read "\" as "/", so
// "/\t/evil.example" or "/\\evil.example" would leave the site as
// "//evil.example"; a path of our own never needs any of them.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	if strings.ContainsFunc(next, func(r rune) bool {
		return r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError
	}) {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

// LoginPage is GET /login.
func (d *Dashboard) LoginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := d.session(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d.renderLogin(w, r, http.StatusOK, "")
}

type loginData struct {
	Next string
	Err  string
}

func (l loginData) formError() string { return l.Err }

func (d *Dashboard) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if err := d.Render(w, r, status, "login", "Sign in", loginData{Next: safeNext(r.FormValue("next")), Err: msg}); err != nil {
		d.cfg.Logger.Error("rendering the sign-in page", "err", err)
	}
}

// Login is POST /login: it checks the API key. The sign-in form has no session to bind a
// CSRF token to; SameSite=Strict and the Origin check guard it (a forged
// sign-in could only sign the victim in with the attacker's own key, which
// here is the admin key the attacker would need to have).
func (d *Dashboard) Login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		d.renderError(w, r, hookline.Errorf(hookline.EFORBIDDEN, "cross-site sign-in refused"))
		return
	}
	key := strings.TrimSpace(r.PostFormValue("key"))
	if !d.cfg.CheckKey(key) {
		// No key in the log line, right or wrong.
		d.cfg.Logger.Warn("dashboard sign-in failed", "remote", r.RemoteAddr)
		wrong := hookline.Errorf(hookline.EUNAUTHORIZED, "That is not the admin API key.")
		d.renderLogin(w, r, httperr.Status(wrong), hookline.ErrorMessage(wrong))
		return
	}
	if old, ok := d.session(r); ok {
		// Signing in again replaces the browser's session: the old token
		// must not stay alive beside the new one, wherever it was copied.
		if err := d.app.EndSession(r.Context(), old.token); err != nil {
			d.renderError(w, r, fmt.Errorf("dashboard sign-in: ending the previous session: %w: %w",
				hookline.Errorf(hookline.EINTERNAL, "could not start a session: try again"), err))
			return
		}
	}
	token, expires, err := d.app.StartSession(r.Context())
	if err != nil {
		// The person reads the first error; the log, both.
		d.renderError(w, r, fmt.Errorf("dashboard sign-in: %w: %w",
			hookline.Errorf(hookline.EINTERNAL, "could not start a session: try again"), err))
		return
	}
	http.SetCookie(w, d.cookie(r, token, expires))
	d.cfg.Logger.Info("dashboard sign-in", "remote", r.RemoteAddr)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// Logout is POST /logout: it ends the session on the server, so that the
// cookie stops working even where a browser (or a thief) keeps it.
func (d *Dashboard) Logout(w http.ResponseWriter, r *http.Request) {
	if s, ok := d.session(r); ok {
		if err := d.app.EndSession(r.Context(), s.token); err != nil {
			d.renderError(w, r, fmt.Errorf("dashboard sign-out: %w: %w",
				hookline.Errorf(hookline.EINTERNAL, "could not end the session: try again"), err))
			return
		}
	}
	c := d.cookie(r, "", time.Unix(0, 0))
	c.MaxAge = -1
	http.SetCookie(w, c)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
