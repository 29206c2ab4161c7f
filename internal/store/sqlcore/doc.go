// Package sqlcore is the SQL the two stores share, written once: the
// retention purge (retention.go), the statistics the dashboard and the
// health views read (stats.go), capturing an inbound request with its
// deliveries (inbound.go), re-sealing the secrets at rest under the
// current key (secrets.go), the endpoints' pacing state and the holds of a
// receiver's Retry-After (pace.go), and the operational events recorded
// and read back (operational.go). What tells the databases apart is small and
// named in a Dialect (dialect.go): placeholders ($1 or ?), how a time is
// stored, how a list is bound, how a row is named physically, whether
// rows can be locked, PostgreSQL's deliveries.paused column.
//
// A store embeds a Shared made with its read side and its write
// transaction (SQLite's single writer, a PostgreSQL transaction); the
// methods of Shared then are the store's, and the conformance suite
// (internal/store/storetest) checks them on both. What stays per database
// is what their designs differ in: publishing, claiming and completing
// deliveries (the SQLite journal and single writer, the PostgreSQL batches
// and SKIP LOCKED claims), and the aggregates' upsert that completion
// runs in its own transaction.
package sqlcore
