// Package postgres implements hookline.Store on PostgreSQL, through pgx's
// connection pool, for deployments where several Hookline nodes share one
// database.
//
// Several nodes may claim work at once: ClaimTasks picks due deliveries with
// FOR UPDATE SKIP LOCKED and leases them in the same statement, so no
// delivery is leased to two nodes, and claimers never wait for each other.
// Unlike the SQLite store, Open leaves existing leases alone: they belong to
// other, running nodes; a crashed node's leases lapse and are claimed again.
//
// The hot path is batched: PublishEvents stores a batch of events, their
// idempotency keys and their deliveries with array parameters (unnest) in
// one transaction; CompleteTasks records a batch of attempts in one round
// trip, as one pipelined implicit transaction.
//
// Schema migrations are embedded, applied in order under an advisory lock
// (two nodes starting at once do not race) and recorded in
// schema_migrations, so migrating an up-to-date database changes nothing.
// Times are timestamptz, truncated to milliseconds like the SQLite store's.
package postgres
