package sqlite

import (
	"context"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

var _ hookline.Cluster = (*Store)(nil)

// ClaimRun always succeeds: a SQLite database has one node (the server
// locks its data directory), which is the whole cluster.
func (s *Store) ClaimRun(ctx context.Context, job, owner string, now time.Time, every time.Duration) (bool, error) {
	return true, ctx.Err()
}

// notifyBus carries notifications between the listeners of one store: a
// SQLite database has one process, so Notify and Listen need no more than
// a map of callbacks.
type notifyBus struct {
	mu   sync.Mutex
	seq  int
	subs map[string]map[int]func(string) // channel → listener id → callback
}

// Notify calls every listener of channel on this store.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := &s.bus
	b.mu.Lock()
	var fns []func(string)
	for _, fn := range b.subs[channel] {
		fns = append(fns, fn)
	}
	b.mu.Unlock()
	for _, fn := range fns {
		fn(payload)
	}
	return nil
}

// Listen registers fn until ctx ends.
func (s *Store) Listen(ctx context.Context, channel string, ready func(), fn func(payload string)) error {
	b := &s.bus
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[string]map[int]func(string){}
	}
	if b.subs[channel] == nil {
		b.subs[channel] = map[int]func(string){}
	}
	b.seq++
	id := b.seq
	b.subs[channel][id] = fn
	b.mu.Unlock()
	if ready != nil {
		ready()
	}
	<-ctx.Done()
	b.mu.Lock()
	delete(b.subs[channel], id)
	if len(b.subs[channel]) == 0 {
		delete(b.subs, channel)
	}
	b.mu.Unlock()
	return ctx.Err()
}
