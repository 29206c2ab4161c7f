package listen

import (
	"context"
	"sort"
	"sync"
	"time"
)

// gather is how long an idle gate waits before letting the first request
// through, so that deliveries claimed together (a backlog, after the device
// reconnects) queue up first and go out oldest first.
const gather = 10 * time.Millisecond

// gate lets one request at a time through to a device, smallest key first
// among those waiting. Keys are event ids, which sort by publish time, so a
// flow's events reach the local app in the order they were published.
type gate struct {
	mu      sync.Mutex
	busy    bool // a request holds the gate, or a grant is scheduled
	waiters []*waiter
}

type waiter struct {
	key   string
	ready chan struct{}
}

// acquire waits for the gate. On error (ctx done) the gate is not held.
func (g *gate) acquire(ctx context.Context, key string) error {
	w := &waiter{key: key, ready: make(chan struct{})}
	g.mu.Lock()
	i := sort.Search(len(g.waiters), func(i int) bool { return g.waiters[i].key > key })
	g.waiters = append(g.waiters, nil)
	copy(g.waiters[i+1:], g.waiters[i:])
	g.waiters[i] = w
	if !g.busy {
		g.busy = true
		time.AfterFunc(gather, g.next)
	}
	g.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		for i, x := range g.waiters {
			if x == w {
				g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
				g.mu.Unlock()
				return ctx.Err()
			}
		}
		g.mu.Unlock()
		// Granted while we gave up: pass it on.
		g.next()
		return ctx.Err()
	}
}

// release lets the next waiter through.
func (g *gate) release() { g.next() }

// next grants the gate to the smallest waiter, or marks it idle.
func (g *gate) next() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiters) == 0 {
		g.busy = false
		return
	}
	w := g.waiters[0]
	g.waiters = g.waiters[1:]
	close(w.ready)
}
