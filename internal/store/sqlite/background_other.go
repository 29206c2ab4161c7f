//go:build !linux

package sqlite

// runInBackground does nothing: only Linux sets the priority of one
// thread.
func runInBackground() bool { return false }
