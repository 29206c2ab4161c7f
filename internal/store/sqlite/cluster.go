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

// bus carries notifications between the listeners of one process, the only
// process a SQLite store has.
var bus struct {
	sync.Mutex
	seq  int
	subs map[*Store]map[string]map[int]func(string)
}

// Notify calls every listener of channel on this store.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bus.Lock()
	var fns []func(string)
	for _, fn := range bus.subs[s][channel] {
		fns = append(fns, fn)
	}
	bus.Unlock()
	for _, fn := range fns {
		fn(payload)
	}
	return nil
}

// Listen registers fn until ctx ends.
func (s *Store) Listen(ctx context.Context, channel string, ready func(), fn func(payload string)) error {
	bus.Lock()
	if bus.subs == nil {
		bus.subs = map[*Store]map[string]map[int]func(string){}
	}
	if bus.subs[s] == nil {
		bus.subs[s] = map[string]map[int]func(string){}
	}
	if bus.subs[s][channel] == nil {
		bus.subs[s][channel] = map[int]func(string){}
	}
	bus.seq++
	id := bus.seq
	bus.subs[s][channel][id] = fn
	bus.Unlock()
	if ready != nil {
		ready()
	}
	<-ctx.Done()
	bus.Lock()
	delete(bus.subs[s][channel], id)
	if len(bus.subs[s][channel]) == 0 {
		delete(bus.subs[s], channel)
	}
	if len(bus.subs[s]) == 0 {
		delete(bus.subs, s)
	}
	bus.Unlock()
	return ctx.Err()
}
