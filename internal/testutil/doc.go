// Package testutil holds the test helpers that the tests of more than one
// package need: a log buffer safe to read while a server writes it, an
// in-process `hookline serve` on a free port, and the reading of the
// README's tables that tests keep in step with the code (serve flags,
// routes, packages). Only _test.go files import it.
package testutil
