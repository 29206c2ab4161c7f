// Package e2e holds end-to-end tests: they build the real hookline binary,
// run it on loopback port 0 with its own data directory, and talk to it and
// to real HTTP receivers the way users and their applications would.
package e2e
