package server

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/hookline/hookline/internal/api"
	"github.com/hookline/hookline/internal/dashboard"
	"github.com/hookline/hookline/internal/httperr"
	"github.com/hookline/hookline/internal/listen"
	"github.com/hookline/hookline/internal/metrics"
)

// access is who may call a route.
type access int

const (
	// public routes take no credentials: health, metrics (counts only),
	// the endpoints' public keys, sign-in, static files, and the ingest
	// URL, where the source's own verification stands in for a key.
	public access = iota
	// keyed routes want "Authorization: Bearer <admin API key>" and answer
	// 401 with a JSON error without it.
	keyed
	// session routes want a dashboard session cookie: without one a GET
	// is sent to /login (303) and anything else answered 401; a POST also
	// wants its form's CSRF token (403).
	session
)

// route is one entry of the route map. Exactly one of the handlers is set:
// json for handlers whose errors are answered as JSON (internal/httperr),
// page for dashboard pages whose errors are rendered as a page, plain for
// handlers that answer their own errors.
type route struct {
	pattern string
	access  access
	json    func(http.ResponseWriter, *http.Request) error
	page    func(http.ResponseWriter, *http.Request) error
	plain   http.HandlerFunc
}

// surfaces are the parts of a node that serve HTTP.
type surfaces struct {
	api     *api.Server
	dash    *dashboard.Dashboard
	hub     *listen.Hub
	tail    *listen.Tail
	metrics *metrics.Metrics
	log     *slog.Logger
}

// routes is the route map: every route the server answers, with who may
// call it. Nothing else registers routes. A pattern without a method
// takes any method; the others answer a wrong method with 405 and Allow.
func (s *surfaces) routes() []route {
	a, d := s.api, s.dash
	return []route{
		{pattern: "GET /healthz", access: public, plain: a.Healthz},
		// Unauthenticated, as Prometheus scrapes: counts and ages only.
		{pattern: "GET /metrics", access: public, plain: s.metrics.ServeHTTP},
		// Public keys of ed25519 endpoints, for receivers to fetch and pin.
		{pattern: "GET /.well-known/webhook-keys", access: public, json: a.WebhookKeys},

		// The JSON API (internal/api).
		{pattern: "POST /v1/endpoints", access: keyed, json: a.CreateEndpoint},
		{pattern: "GET /v1/endpoints", access: keyed, json: a.ListEndpoints},
		{pattern: "GET /v1/endpoints/{id}", access: keyed, json: a.GetEndpoint},
		{pattern: "PATCH /v1/endpoints/{id}", access: keyed, json: a.UpdateEndpoint},
		{pattern: "DELETE /v1/endpoints/{id}", access: keyed, json: a.DeleteEndpoint},
		{pattern: "GET /v1/endpoints/{id}/secret", access: keyed, json: a.GetSecret},
		{pattern: "POST /v1/endpoints/{id}/secret/rotate", access: keyed, json: a.RotateSecret},
		{pattern: "GET /v1/endpoints/{id}/attempts", access: keyed, json: a.ListEndpointAttempts},
		{pattern: "POST /v1/endpoints/{id}/test", access: keyed, json: a.SendTestEvent},
		{pattern: "POST /v1/endpoints/{id}/recover", access: keyed, json: a.RecoverEndpoint},
		{pattern: "GET /v1/jobs/{id}", access: keyed, json: a.GetJob},

		{pattern: "POST /v1/filters/test", access: keyed, json: a.TestFilter},

		{pattern: "POST /v1/secrets/rotate-key", access: keyed, json: a.RotateSecretKey},

		{pattern: "POST /v1/events", access: keyed, json: a.PublishEvent},
		{pattern: "GET /v1/events", access: keyed, json: a.ListEvents},
		{pattern: "GET /v1/events/{id}", access: keyed, json: a.GetEvent},
		{pattern: "GET /v1/events/{id}/attempts", access: keyed, json: a.ListEventAttempts},
		{pattern: "GET /v1/events/{id}/deliveries", access: keyed, json: a.ListDeliveries},
		{pattern: "POST /v1/events/{id}/resend", access: keyed, json: a.ResendEvent},

		{pattern: "POST /v1/sources", access: keyed, json: a.CreateSource},
		{pattern: "GET /v1/sources", access: keyed, json: a.ListSources},
		{pattern: "GET /v1/sources/{id}", access: keyed, json: a.GetSource},
		{pattern: "GET /v1/sources/{id}/secret", access: keyed, json: a.GetSourceSecret},
		{pattern: "PATCH /v1/sources/{id}", access: keyed, json: a.UpdateSource},
		{pattern: "DELETE /v1/sources/{id}", access: keyed, json: a.DeleteSource},

		{pattern: "POST /v1/connections", access: keyed, json: a.CreateConnection},
		{pattern: "GET /v1/connections", access: keyed, json: a.ListConnections},
		{pattern: "GET /v1/connections/{id}", access: keyed, json: a.GetConnection},
		{pattern: "PATCH /v1/connections/{id}", access: keyed, json: a.UpdateConnection},
		{pattern: "DELETE /v1/connections/{id}", access: keyed, json: a.DeleteConnection},

		{pattern: "GET /v1/requests", access: keyed, json: a.ListRequests},
		{pattern: "GET /v1/requests/{id}", access: keyed, json: a.GetRequest},
		{pattern: "GET /v1/requests/{id}/raw", access: keyed, json: a.RawRequest},
		{pattern: "GET /v1/requests/{id}/attempts", access: keyed, json: a.ListRequestAttempts},
		{pattern: "GET /v1/requests/{id}/deliveries", access: keyed, json: a.ListRequestDeliveries},
		{pattern: "POST /v1/requests/{id}/resend", access: keyed, json: a.ResendRequest},
		{pattern: "POST /v1/requests/{id}/replay", access: keyed, json: a.ReplayRequest},

		// Listen devices and the live tail (internal/listen).
		{pattern: "POST /v1/listen/devices/{name}", access: keyed, json: s.hub.ServeDevice},
		{pattern: "GET /v1/listen/devices/{name}/connect", access: keyed, json: s.hub.ServeConnect},
		{pattern: "DELETE /v1/listen/devices/{name}", access: keyed, json: s.hub.ServeForget},
		{pattern: "GET /v1/tail", access: keyed, json: s.tail.ServeStream},

		// The ingest URL takes any method and content type.
		{pattern: "/in/{id}", access: public, json: a.Ingest},
		{pattern: "/in/{id}/{rest...}", access: public, json: a.Ingest},

		// The dashboard (internal/dashboard).
		{pattern: "GET /static/", access: public, plain: d.Static},
		{pattern: "GET /login", access: public, plain: d.LoginPage},
		{pattern: "POST /login", access: public, plain: d.Login},
		{pattern: "POST /logout", access: session, plain: d.Logout},
		{pattern: "GET /{$}", access: session, page: d.Overview},
		{pattern: "GET /endpoints", access: session, page: d.Endpoints},
		{pattern: "GET /endpoints/new", access: session, page: d.NewEndpoint},
		{pattern: "POST /endpoints", access: session, page: d.CreateEndpoint},
		{pattern: "GET /endpoints/{id}", access: session, page: d.Endpoint},
		{pattern: "POST /endpoints/{id}", access: session, page: d.UpdateEndpoint},
		{pattern: "POST /endpoints/{id}/status", access: session, page: d.SetStatus},
		{pattern: "POST /endpoints/{id}/rotate", access: session, page: d.Rotate},
		{pattern: "POST /endpoints/{id}/reveal", access: session, page: d.Reveal},
		{pattern: "POST /endpoints/{id}/test", access: session, page: d.SendTest},
		{pattern: "POST /endpoints/{id}/resend-failed", access: session, page: d.BulkResend},
		{pattern: "POST /endpoints/filter-test", access: session, page: d.TestFilter},
		{pattern: "POST /endpoints/{id}/filter-test", access: session, page: d.TestFilter},
		{pattern: "GET /jobs/{id}", access: session, page: d.Job},
		{pattern: "GET /events", access: session, page: d.Events},
		{pattern: "GET /events/{id}", access: session, page: d.Event},
		{pattern: "POST /events/{id}/resend", access: session, page: d.Resend},
		{pattern: "GET /tail", access: session, page: d.TailPage},
		{pattern: "GET /tail/stream", access: session, plain: d.TailStream},
		{pattern: "GET /sources", access: session, page: d.Sources},
		{pattern: "GET /sources/new", access: session, page: d.NewSource},
		{pattern: "POST /sources", access: session, page: d.CreateSource},
		{pattern: "GET /sources/{id}", access: session, page: d.Source},
		{pattern: "POST /sources/{id}", access: session, page: d.UpdateSource},
		{pattern: "POST /sources/{id}/delete", access: session, page: d.DeleteSource},
		{pattern: "POST /sources/{id}/connections", access: session, page: d.CreateConnection},
		{pattern: "POST /connections/{id}/delete", access: session, page: d.DeleteConnection},
		{pattern: "GET /requests", access: session, page: d.Requests},
		{pattern: "GET /requests/{id}", access: session, page: d.Request},
		{pattern: "GET /requests/{id}/raw", access: session, page: d.RawRequest},
		{pattern: "POST /requests/{id}/replay", access: session, page: d.ReplayRequest},
		{pattern: "POST /requests/{id}/edit-replay", access: session, page: d.EditReplayRequest},
		{pattern: "POST /requests/{id}/resend", access: session, page: d.ResendRequest},
	}
}

// handler mounts the route map on one mux, each route behind its access
// check. A path under /v1/ that no route has is a JSON 404 (behind the API
// key, as the API is); one that routes have under other methods is a JSON
// 405 with Allow (public, as the mux's own 405 elsewhere is).
func (s *surfaces) handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		var h http.Handler
		switch {
		case rt.json != nil:
			// PostgreSQL stores no NUL: a path holding one is a 400
			// on every JSON route, and so is a query parameter of
			// the API's, before a handler reads it.
			h = httperr.Handler(s.log, api.RejectNUL(rt.json, rt.access == keyed))
		case rt.page != nil:
			h = s.dash.Handle(rt.page)
		default:
			h = rt.plain
		}
		switch rt.access {
		case keyed:
			h = s.api.Authenticated(h)
		case session:
			h = s.dash.RequireSession(h)
		}
		mux.Handle(rt.pattern, h)
	}
	notFound := s.api.Authenticated(httperr.Handler(s.log, s.api.NotFound))
	methodNotAllowed := httperr.Handler(s.log, s.api.MethodNotAllowed)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			mux.ServeHTTP(w, r)
			return
		}
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		allow := allowedMethods(mux, r)
		if len(allow) == 0 {
			notFound.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		methodNotAllowed.ServeHTTP(w, r)
	})
}

// allowedMethods returns the methods routes have r's path under (GET
// bringing HEAD, as the mux serves it).
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	probe := *r
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe.Method = m
		if _, pattern := mux.Handler(&probe); pattern != "" {
			out = append(out, m)
			if m == http.MethodGet {
				out = append(out, http.MethodHead)
			}
		}
	}
	return out
}
