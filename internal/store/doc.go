// Package store is the home of Hookline's storage adapters: one package per
// database (sqlite, postgres), each implementing hookline.Store; sqlcore,
// the SQL they share (retention, statistics, inbound capture) over a small
// dialect; and the conformance suite (storetest) that pins the behaviour
// they share. Its own test checks that the two migration histories give
// the same tables and columns, but for the differences it lists as meant.
package store
