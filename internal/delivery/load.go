package delivery

import (
	"context"
	"fmt"
	"sync"

	"github.com/hookline/hookline/internal/hookline"
)

// loads counts what this node holds of each endpoint (or connection):
// deliveries leased and not yet answered. It is the engine's half of the
// fairness rule (hookline.ClaimRequest): claims are told these counts and
// lease no more than the room under each endpoint's cap, and publishes
// lease only while there is room, so no delivery ever waits in memory for a
// slot of its endpoint.
type loads struct {
	mu sync.Mutex
	m  map[string]*endpointLoad
	// claiming is set while a claim made with the current counts runs:
	// publishes then lease nothing, so that the claim's room stays free
	// for what it brings back, which otherwise would go back to the store.
	claiming bool
}

type endpointLoad struct {
	held  int
	limit int // its cap, as of the latest take
	// waiting is set when due work of the endpoint was left in the store
	// for want of room (or may have been): a freed slot then wakes the
	// claim loop at once instead of at its next poll.
	waiting bool
}

// take reserves one slot at endpoint id, capped at limit, and reports
// whether there was one; without one the endpoint is marked waiting.
func (l *loads) take(id string, limit int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ld := l.m[id]
	if ld == nil {
		ld = &endpointLoad{}
		l.m[id] = ld
	}
	ld.limit = limit
	if ld.held >= limit || l.claiming {
		ld.waiting = true
		return false
	}
	ld.held++
	return true
}

// done frees a slot at endpoint id and reports whether the endpoint has
// work waiting for it.
func (l *loads) done(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ld := l.m[id]
	if ld == nil {
		return false
	}
	ld.held--
	waiting := ld.waiting
	if ld.held <= 0 && !waiting {
		delete(l.m, id)
	}
	return waiting
}

// startClaim returns a copy of the counts, for a claim, and holds
// publishes off until claimed.
func (l *loads) startClaim() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.claiming = true
	out := make(map[string]int, len(l.m))
	for id, ld := range l.m {
		if ld.held > 0 {
			out[id] = ld.held
		}
	}
	return out
}

// claimed admits the tasks of a claim made with held as its counts and
// returns those it had room for, and the others (none, unless a slot
// was taken some other way meanwhile), which the caller gives back. An endpoint whose
// cap the claim filled may have more due: it is marked waiting; one it
// left room at has none due, and is not.
func (l *loads) claimed(tasks []*hookline.Task, held map[string]int, def int) (kept, excess []*hookline.Task) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.claiming = false
	got := map[string]int{}
	limits := map[string]int{}
	for _, t := range tasks {
		id := t.Endpoint.ID
		limit := hookline.ConcurrencyOf(t.Endpoint, def)
		limits[id] = limit
		ld := l.m[id]
		if ld == nil {
			ld = &endpointLoad{}
			l.m[id] = ld
		}
		ld.limit = limit
		if ld.held >= limit {
			ld.waiting = true
			excess = append(excess, t)
			continue
		}
		ld.held++
		got[id]++
		kept = append(kept, t)
	}
	for id, ld := range l.m {
		limit, seen := limits[id]
		switch {
		case seen && held[id]+got[id] >= limit:
			ld.waiting = true
		case !seen && ld.waiting && held[id] >= ld.limit:
			// Full before the claim and still full: it stays waiting.
		default:
			ld.waiting = false
			if ld.held <= 0 {
				delete(l.m, id)
			}
		}
	}
	return kept, excess
}

// claim leases up to limit due deliveries under the fairness rule and
// admits them.
func (e *Engine) claim(limit int) ([]*hookline.Task, error) {
	held := e.loads.startClaim()
	tasks, err := e.cfg.Store.ClaimTasks(context.Background(), hookline.ClaimRequest{
		Owner: e.cfg.Owner, Now: e.cfg.Now(), Lease: e.cfg.Lease, Limit: limit,
		MaxConcurrency: e.cfg.MaxConcurrency, Timeout: e.cfg.Timeout, Held: held,
	})
	kept, excess := e.loads.claimed(tasks, held, e.cfg.MaxConcurrency) // also on error: publishes lease again
	e.wakeForTokens(tasks)
	if err != nil {
		return nil, err
	}
	if len(excess) > 0 {
		ids := make([]string, len(excess))
		for i, t := range excess {
			ids[i] = t.DeliveryID
		}
		if err := e.cfg.Store.ReleaseTasks(context.Background(), e.cfg.Owner, ids, e.cfg.Now()); err != nil {
			return kept, fmt.Errorf("giving back deliveries claimed past their endpoint's cap: %w", err)
		}
	}
	return kept, nil
}
