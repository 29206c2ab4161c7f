// Package store is the home of Hookline's storage adapters: one package per
// database (sqlite, postgres), each implementing hookline.Store, and the
// conformance suite (storetest) that pins the behaviour they share.
package store
