// Package cli is the hookline command: `serve` runs a node, the other
// commands talk to a running node through its HTTP API. Run is the whole
// program; cmd/hookline only calls it.
//
// Exit codes: 0 success, 1 failure (the server refused or could not be
// reached, a signature did not verify), 2 wrong usage (an unknown flag, a
// missing argument, a flag value that cannot be parsed).
package cli
