// Package sqlite implements hookline.Store on an embedded SQLite database,
// through the pure-Go driver modernc.org/sqlite (no cgo).
//
// The database runs in WAL mode. All writes go through one connection, one
// BEGIN IMMEDIATE transaction at a time, so writers never fight over the
// lock; reads use a separate pool of read-only connections and never wait
// for the writer. Commits are synchronous=FULL by default.
//
// Publishes take a shorter path (package journal, which specifies the
// format; journal.go and pending.go here): a batch of events and its
// deliveries is appended to a preallocated journal file and synced, one
// write and one sync, and is then durable: an event the API answered 201
// for survives kill -9 and power loss. The first attempts of those
// deliveries are journaled and synced the same way before CompleteTasks
// returns. The batch waits in memory until a flush, every 50 ms on a
// low-priority thread, copies it into SQLite in one large transaction,
// usually after its first attempts were recorded, so that a delivery row is
// written once, in its final state. Any other read or write flushes first,
// so it sees every publish that returned before it. Open replays the
// journal a crash left behind; retention purges no event a replay could
// bring back.
//
// One process owns the file at a time (the server locks its data dir), so
// Open takes every delivery lease left by an earlier process back: after a
// crash its in-flight deliveries are claimed again at once instead of after
// their leases lapse.
//
// Schema migrations are embedded and applied in order by Open; each is
// recorded in schema_migrations, so opening an up-to-date file changes
// nothing. Times are stored as integer unix milliseconds.
package sqlite
