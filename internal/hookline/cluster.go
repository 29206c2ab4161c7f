package hookline

import (
	"context"
	"time"
)

// Retention is implemented by stores that can purge old data. Both stores
// implement it; it is a separate interface so that a Store wrapper need not.
type Retention interface {
	// PurgeBefore deletes, in one short transaction, up to limit of the
	// oldest events created before cutoff together with their deliveries
	// (whatever their state: past the retention an undelivered event is
	// dropped too) and their attempts, then up to limit rows older than
	// cutoff from each other table the store purges (idempotency keys, and
	// whatever other features register). Callers loop while More is set,
	// pausing between calls, so that purging never holds locks for long.
	// What it purged stays purged after a crash: a store that keeps a log to
	// replay leaves alone the events a replay could bring back.
	PurgeBefore(ctx context.Context, cutoff time.Time, limit int) (Purged, error)
}

// Purged is what one PurgeBefore call removed.
type Purged struct {
	Events int64 // events removed, with their deliveries and attempts
	Rows   int64 // rows removed from every table, events included
	More   bool  // some table still holds rows older than the cutoff
}

// Cluster is implemented by stores that several nodes may share. It gives
// the nodes a way to run timed jobs once across the cluster and to wake
// each other. A single-node store (SQLite) implements it trivially: every
// claim succeeds and notifications reach the listeners of this process.
type Cluster interface {
	// ClaimRun reports whether the caller, owner, is the one to run job now:
	// true for the first caller after every has passed since the last run
	// was claimed, by any node, and false for the others. A node that dies
	// while running the job holds nothing: the next claim after every
	// succeeds.
	ClaimRun(ctx context.Context, job, owner string, now time.Time, every time.Duration) (bool, error)
	// Notify sends payload (up to a few kilobytes) to every listener of
	// channel on every node, this one included. Delivery is best effort:
	// a listener that is reconnecting misses it, so receivers must not
	// depend on it for correctness, only for promptness.
	Notify(ctx context.Context, channel, payload string) error
	// Listen calls fn with the payload of every notification on channel
	// until ctx ends or the connection fails, and returns why it stopped.
	// fn runs on the listening goroutine and must not block. ready, when
	// not nil, is called once listening has begun, so that a notification
	// sent after it returns is received.
	Listen(ctx context.Context, channel string, ready func(), fn func(payload string)) error
}
