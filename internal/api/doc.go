// Package api is Hookline's JSON API over HTTP: for each route it decodes
// the request (one capped, strict decoder: encode.go), calls the
// application layer (internal/app) and renders its answer as JSON, one
// file per resource (endpoints.go, events.go, sources.go, connections.go,
// requests.go, ingest.go), in the shapes internal/apijson declares for
// it and internal/client alike. It authenticates the admin API key
// (Authenticated) and answers /healthz. Errors become HTTP through
// internal/httperr; the routes themselves are listed, with every other
// route of the server, in internal/server/routes.go.
package api
