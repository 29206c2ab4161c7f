// Package dashboard owns Hookline's web dashboard: server-rendered pages
// (html/template), a little plain JavaScript and CSS, all embedded in the
// binary with //go:embed — no CDN, no network at run time, no build step.
//
// It signs people in with the admin API key and keeps them signed in with
// an HMAC-signed session cookie (HttpOnly, SameSite=Strict, Secure behind
// TLS); every form carries a CSRF token derived from the session. Pages:
// an overview with charts drawn as inline SVG from the stores' per-minute
// aggregates (hookline.StatsStore, never a scan of attempts), endpoints,
// events with their attempts, resend and bulk resend, and a live tail of
// attempts fed by the delivery engine's OnAttempt hook over Server-Sent
// Events. The inbound pages (inbound.go) list sources with their ingest
// URLs and connections, and the requests they captured, shown as they
// arrived (a body is only ever text in a <pre>, or a download), with
// replay and edit-and-replay recorded as attempts.
//
// Other parts add pages through Config.Nav and
// RequireSession, Render and CSRF.
package dashboard
