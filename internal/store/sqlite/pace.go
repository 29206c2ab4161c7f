package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// paceState holds each paced endpoint's bucket (hookline.Bucket): in
// memory, as a SQLite database has one process. A restart starts every
// bucket full and forgets holds.
type paceState struct {
	mu      sync.Mutex
	buckets map[string]hookline.Bucket
}

// paceRoom caps room by ep's pacing at now (hookline.PaceRoom).
func (s *Store) paceRoom(ep *hookline.Endpoint, now time.Time, room int) int {
	s.pace.mu.Lock()
	defer s.pace.mu.Unlock()
	return hookline.PaceRoom(ep, s.pace.buckets[ep.ID], now, room)
}

// takeTokens takes the deliveries picked by a claim from their endpoints'
// buckets.
func (s *Store) takeTokens(now time.Time, picked []dueTask) {
	s.pace.mu.Lock()
	defer s.pace.mu.Unlock()
	for _, d := range picked {
		ep := d.task.Endpoint
		if ep == nil || ep.RateLimit == nil {
			continue
		}
		if s.pace.buckets == nil {
			s.pace.buckets = map[string]hookline.Bucket{}
		}
		s.pace.buckets[ep.ID] = s.pace.buckets[ep.ID].Take(ep.RateLimit, now, 1)
	}
}

// HoldEndpoint has claims lease nothing of endpoint id before until.
func (s *Store) HoldEndpoint(_ context.Context, id string, until time.Time) error {
	s.pace.mu.Lock()
	defer s.pace.mu.Unlock()
	if s.pace.buckets == nil {
		s.pace.buckets = map[string]hookline.Bucket{}
	}
	b := s.pace.buckets[id]
	if until.After(b.Until) {
		b.Until = until
		s.pace.buckets[id] = b
	}
	return nil
}

// fifoNeedsFlush reports whether a claim must flush the journal first: a
// FIFO endpoint has room while some of its deliveries are in memory, one
// of which may be its head.
func (s *Store) fifoNeedsFlush(ctx context.Context, req hookline.ClaimRequest) (bool, error) {
	if s.pendingCount.Load() == 0 {
		return false, nil
	}
	endpoints, _, err := s.enabledEndpoints(ctx, s.r.db)
	if err != nil {
		return false, err
	}
	for _, ep := range endpoints {
		if !ep.FIFO() || req.Held[ep.ID] > 0 {
			continue
		}
		s.bmu.Lock()
		in := s.pend.inMemory(ep.ID)
		s.bmu.Unlock()
		if in {
			return true, nil
		}
	}
	return false, nil
}

// inMemory reports whether a delivery of endpoint id not leased at
// publish is in memory, not flushed: attempted or not. A FIFO endpoint's
// deliveries are never leased at publish, so these are all of its
// deliveries in memory. Flushed ones leave the list. The caller holds bmu.
func (p *pending) inMemory(id string) bool {
	list := p.unleased[id]
	for len(list) > 0 && p.deliveries[list[0].id] != list[0] {
		list[0].listed = false
		list[0] = nil
		list = list[1:]
	}
	if len(list) == 0 {
		delete(p.unleased, id)
		return false
	}
	p.unleased[id] = list
	return true
}

// fifoHeadQuery finds an endpoint's oldest pending delivery in publish
// order.
const fifoHeadQuery = `SELECT d.id, d.attempts, d.ready_at,
		e.id, e.type, e.created, e.tenant, e.payload, e.idempotency_key
	FROM deliveries d INDEXED BY deliveries_endpoint_order
	JOIN events e ON e.id = d.event_id
	WHERE d.endpoint_id = ? AND d.status = 'pending'
	ORDER BY d.created, d.id
	LIMIT 1`

// fifoHead is the delivery FIFO endpoint ep may lease: its oldest pending
// one, when it is due (not waiting for a retry, not leased); nil
// otherwise. The claim flushed the journal (fifoNeedsFlush), so every
// pending delivery of ep but those published since is in SQLite, and
// those come after.
func (s *Store) fifoHead(ctx context.Context, tx *sql.Tx, req hookline.ClaimRequest, ep *hookline.Endpoint, nowMS int64) (*dueTask, error) {
	var (
		t        hookline.Task
		attempts int
		ready    int64
	)
	ev, err := scanEvent(scanFunc(func(dest ...any) error {
		return tx.QueryRowContext(ctx, fifoHeadQuery, ep.ID).Scan(append([]any{&t.DeliveryID, &attempts, &ready}, dest...)...)
	}))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("finding the head of FIFO endpoint %s: %w", ep.ID, err)
	}
	if ready > nowMS {
		return nil, nil
	}
	cp := *ep
	t.Attempt, t.Event, t.Endpoint, t.LeaseExpires = attempts+1, ev, &cp, req.Now.Add(req.EndpointLease(ep))
	return &dueTask{task: &t, due: fromMS(ready)}, nil
}
