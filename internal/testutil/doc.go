// Package testutil holds the test helpers that the tests of more than one
// package need: a log buffer safe to read while a server writes it, and an
// in-process `hookline serve` on a free port. Only _test.go files import it.
package testutil
