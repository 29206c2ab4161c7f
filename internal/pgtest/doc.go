// Package pgtest gives tests a real PostgreSQL server.
//
// A test package that needs PostgreSQL calls Main from its TestMain, and each
// test calls DSN for a fresh, empty database of its own, so that tests can
// run in parallel:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		t.Parallel()
//		dsn := pgtest.DSN(t)
//		…
//	}
//
// The server is started once per test binary, on first use: with
// HOOKLINE_TEST_PG set to a DSN, that server is used (databases are created
// in it and dropped afterwards); otherwise a throwaway cluster is made with
// initdb in a temporary directory and run, tuned for tests (no fsync), until
// Main returns. As root, PostgreSQL runs as an unprivileged user, since it
// refuses to run as root.
//
// When PostgreSQL is not installed, tests that ask for a database fail, with
// the fix in the message (scripts/ensure-postgres.sh), unless
// HOOKLINE_SKIP_PG=1 is set, in which case they are skipped.
package pgtest
