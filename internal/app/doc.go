// Package app is Hookline's application layer: every use case the
// surfaces offer, written once. It validates input and applies the limits
// (returning hookline.Error values that name the param at fault), calls
// the store, wakes the delivery engine after a change that makes
// deliveries due, tells the metrics of what happened, and logs what was
// changed by whom (never a secret).
//
// The JSON API (internal/api), the dashboard (internal/dashboard) and the
// listen hub (internal/listen) only decode a request, call an App method
// and render its answer, so a rule holds the same whichever surface a
// person uses; internal/httperr maps the errors to HTTP for all of them.
//
// Use cases by resource: endpoints.go (create, update, enable and disable,
// rotate secrets, test events), events.go (publish, list, attempts,
// deliveries, resend), jobs.go (recover, the API's and the dashboard's
// bulk resend), filters.go (trying a filter), inbound.go (sources,
// connections, admitting and capturing a request at an ingest URL,
// captured requests, resend and replay with the one check of a replay's
// edits), devices.go (listen devices: create or update under the
// endpoint rules, seen, connected, forgotten, idle), secrets.go (the key
// sealing secrets at rest), health.go.
//
// The listen hub gets the App after the engine is made (listen.Hub.Use):
// it keeps the devices' websockets, the App their endpoints.
package app
