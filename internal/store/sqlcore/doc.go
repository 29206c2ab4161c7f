// Package sqlcore is the SQL the two stores share, written once: the
// retention purge (retention.go) and the statistics the dashboard and the
// health views read (stats.go). What tells the databases apart is small
// and named in a Dialect (dialect.go): placeholders ($1 or ?), how a time
// is stored, how a list is bound, how a row is named physically, whether
// rows can be locked.
//
// A store embeds a Shared, giving it the reads and the transaction it
// runs writes in; the methods of Shared then are the store's. What stays
// per database is what its design differs in: publishing, claiming and
// completing deliveries (the SQLite journal and single writer, the
// PostgreSQL batches and SKIP LOCKED claims), and capturing an inbound
// request (PostgreSQL decides a dedupe between nodes in one upsert).
package sqlcore
