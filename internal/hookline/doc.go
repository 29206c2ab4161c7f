// Package hookline holds Hookline's domain: the types every other package
// speaks (endpoints, events, deliveries, attempts), the errors they return,
// and the Store interface that the storage adapters implement.
//
// It depends on nothing but the standard library, so that the adapters
// (SQLite, PostgreSQL), the delivery engine and the HTTP API can all import it
// without importing each other.
package hookline
