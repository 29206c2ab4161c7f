// Package dashboard owns Hookline's web dashboard: server-rendered pages
// (html/template), a little plain JavaScript and CSS, all embedded in the
// binary with //go:embed — no CDN, no network at run time, no build step.
//
// It signs people in with the admin API key and keeps them signed in with
// a session the server keeps (internal/app sessions.go: sign-out, expiry
// and a changed admin key end it), whose random token the cookie carries
// (HttpOnly, SameSite=Strict, Secure behind TLS); every form carries a
// CSRF token derived from the session (session.go). Its pages only read
// and render; every read and every change a form makes goes through the
// application layer (internal/app), the same calls the API makes, and an
// error (a refused session or CSRF token too) is rendered with the status,
// code and message the API would answer (internal/httperr). One file per resource:
// overview.go (charts drawn as inline SVG from the stores' per-minute
// aggregates, chart.go), endpoints.go, events.go, bulk.go (bulk resend
// jobs), tail.go (the application's live tail of attempts, app.Tail, over
// Server-Sent Events), sources.go (sources and their connections),
// requests.go (captured requests, shown as they arrived: a body is only
// ever text in a <pre>, or a download; replay and edit-and-replay); indent.go indents stored JSON
// within bounds. The routes are mounted by the
// server's route map (internal/server/routes.go).
package dashboard
