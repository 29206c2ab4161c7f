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
// endpoint rules, seen, connected, disconnected, forgotten, idle),
// secrets.go (the key sealing secrets at rest), sessions.go (dashboard
// sign-in sessions), tail.go (the live tail of attempts: the one fan-out
// of the engine's attempt hook, with each subscriber's filter, bounded
// buffer and count of attempts lost, which the dashboard's live tail and
// GET /v1/tail subscribe to and encode each for its transport),
// webhook_keys.go (the
// JWK set of the endpoints' public keys), stats.go (the backlog and the
// attempt statistics the dashboard charts), health.go.
//
// The listen hub gets the App after the engine is made (listen.Hub.Use):
// it keeps the devices' websockets, the App their endpoints.
//
// # The path of a publish to disk
//
// POST /v1/events, in the order the files are reached:
//
//  1. server/routes.go: the route map puts it behind the API key.
//  2. api/events.go PublishEvent decodes the body.
//  3. app/events.go Publish counts it for the metrics.
//  4. delivery/publisher.go Publish checks the event (newEvent) and queues
//     it; commitLoop gathers the queued events into one batch, waiting
//     hookline.Tuning.Linger under load, with Committers batches in flight
//     (one for SQLite's single writer); commit calls the store.
//  5. The store's PublishEvents fans the event out to the subscribed
//     endpoints (hookline/match.go) and makes it durable:
//     SQLite, store/sqlite/events.go → journal.go (one record appended to
//     a preallocated segment, then one fdatasync shared by concurrent
//     publishes: datasync_linux.go) → pending.go (held in memory; reads
//     flush it first) → flushLoop in pending.go copies it into SQLite in
//     one large transaction (batch.go multi-row inserts), on a thread of
//     low priority (background_linux.go), which is why the store asks for
//     a spare processor (hookline.Tuning.SpareProcessor);
//     PostgreSQL, store/postgres/events.go, one transaction per batch.
//  6. Back in delivery/publisher.go, the answer reaches the waiting
//     request, and the first attempts, leased to this node in the same
//     write, go straight to delivery/engine.go (Submit).
//
// # The path of an inbound request to its destination
//
// Any method on /in/{id}, in the order the files are reached:
//
//  1. server/routes.go: public; server/conns.go bounds how slowly its body
//     may arrive.
//  2. api/ingest.go Ingest: app/inbound.go IngestSource finds the source
//     (an unknown one costs no body read), AdmitInbound refuses a body
//     over the cap and asks inbound/limits.go Gate.Admit (allowed
//     addresses, rate, daily bytes, bodies in flight, free disk); the
//     handler then reads the body.
//  3. app/inbound.go Ingest: inbound/verify.go Verify checks the
//     provider's signature, inbound/dedupe.go DedupeKey names the
//     provider's delivery id, inbound/match.go MatchingConnections picks
//     the connections whose filters (inbound/filter.go) take it.
//  4. store/sqlcore/inbound.go CaptureRequest stores the request exactly as
//     it arrived (a rejected one too), drops a duplicate, and makes one
//     delivery per connection, leased to this node, in one transaction.
//  5. delivery/engine.go runs the deliveries (Submit, then claims for
//     retries); senderFor (delivery/forward.go) picks ForwardSender,
//     which replays the method, headers and body bytes to the
//     connection's URL, or for a listen:// URL the hub's Send
//     (listen/hub.go, listen/request.go), which pushes the request to the
//     developer's `hookline listen` over its websocket.
//  6. The attempt is recorded like an event's (delivery/engine.go, the
//     store's CompleteTasks) and retried on the schedule.
package app
