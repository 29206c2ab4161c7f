package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

// paceState holds each paced endpoint's bucket (hookline.Bucket) in
// memory, where the claims read it without a query, and in
// endpoint_buckets, which it is loaded from at Open so that a restart
// keeps partly spent buckets and holds. A row is written only for an
// endpoint with a rate limit (in the claim's transaction, when the claim
// took from its bucket) or a hold (HoldEndpoint): every other claim
// touches neither.
type paceState struct {
	mu      sync.Mutex
	buckets map[string]hookline.Bucket
	// holds are the endpoints held until a time (Bucket.Until), apart,
	// so that a publish looks at what is held, not at every bucket;
	// heldEndpoints drops those that ended.
	holds map[string]time.Time
}

// loadBuckets fills the in-memory buckets from endpoint_buckets.
func (s *Store) loadBuckets(ctx context.Context) error {
	rows, err := s.w.QueryContext(ctx, `SELECT endpoint_id, tokens, at, hold_until FROM endpoint_buckets`)
	if err != nil {
		return fmt.Errorf("loading rate limit buckets: %w", err)
	}
	defer rows.Close()
	buckets := map[string]hookline.Bucket{}
	for rows.Next() {
		var (
			id        string
			b         hookline.Bucket
			at, until sql.NullInt64
		)
		if err := rows.Scan(&id, &b.Tokens, &at, &until); err != nil {
			return fmt.Errorf("loading rate limit buckets: %w", err)
		}
		if at.Valid {
			b.At = fromMS(at.Int64)
		}
		if until.Valid {
			b.Until = fromMS(until.Int64)
		}
		buckets[id] = b
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("loading rate limit buckets: %w", err)
	}
	holds := map[string]time.Time{}
	for id, b := range buckets {
		if !b.Until.IsZero() {
			holds[id] = b.Until
		}
	}
	s.pace.mu.Lock()
	s.pace.buckets, s.pace.holds = buckets, holds
	s.pace.mu.Unlock()
	return nil
}

// paceRoom caps room by ep's pacing at now (hookline.PaceRoom).
func (s *Store) paceRoom(ep *hookline.Endpoint, now time.Time, room int) int {
	s.pace.mu.Lock()
	defer s.pace.mu.Unlock()
	return hookline.PaceRoom(ep, s.pace.buckets[ep.ID], now, room)
}

// takeTokens takes the deliveries picked by a claim from their endpoints'
// buckets and writes the buckets taken from in tx, the claim's
// transaction. Endpoints without a rate limit write nothing. The memory
// is updated as the rows are written: were the transaction to fail, a
// bucket would read as more spent than it is until it refills, which
// errs on the side of the receiver.
func (s *Store) takeTokens(ctx context.Context, tx *sql.Tx, now time.Time, picked []dueTask) error {
	var taken map[string]int
	for _, d := range picked {
		if ep := d.task.Endpoint; ep != nil && ep.RateLimit != nil {
			if taken == nil {
				taken = map[string]int{}
			}
			taken[ep.ID]++
		}
	}
	if len(taken) == 0 {
		return nil // the common case: no statement, no lock
	}
	s.pace.mu.Lock()
	defer s.pace.mu.Unlock()
	if s.pace.buckets == nil {
		s.pace.buckets = map[string]hookline.Bucket{}
	}
	for _, d := range picked {
		ep := d.task.Endpoint
		if ep == nil || ep.RateLimit == nil || taken[ep.ID] == 0 {
			continue
		}
		b := s.pace.buckets[ep.ID].Take(ep.RateLimit, now, taken[ep.ID])
		taken[ep.ID] = 0 // once per endpoint
		if _, err := tx.ExecContext(ctx, sqlcore.BucketTokensUpsert, ep.ID, b.Tokens, ms(b.At)); err != nil {
			return fmt.Errorf("taking rate limit tokens of %s: %w", ep.ID, err)
		}
		s.pace.buckets[ep.ID] = b
	}
	return nil
}

// HoldEndpoint has claims lease nothing of endpoint id before until: it
// writes the hold (sqlcore.Shared.HoldEndpoint), then the claims' copy in
// memory.
func (s *Store) HoldEndpoint(ctx context.Context, id string, until time.Time) error {
	if err := s.Shared.HoldEndpoint(ctx, id, until); err != nil {
		return err
	}
	s.pace.mu.Lock()
	defer s.pace.mu.Unlock()
	if s.pace.buckets == nil {
		s.pace.buckets = map[string]hookline.Bucket{}
	}
	b := s.pace.buckets[id]
	if until.After(b.Until) {
		b.Until = until
		s.pace.buckets[id] = b
		if s.pace.holds == nil {
			s.pace.holds = map[string]time.Time{}
		}
		s.pace.holds[id] = until
	}
	return nil
}

// EndpointHold returns endpoint id's hold from the claims' copy in
// memory, which HoldEndpoint writes through and Open loads: no query.
func (s *Store) EndpointHold(_ context.Context, id string) (time.Time, error) {
	s.pace.mu.Lock()
	defer s.pace.mu.Unlock()
	return s.pace.buckets[id].Until, nil
}

// heldEndpoints returns the endpoints a 429 holds (HoldEndpoint) at now,
// each with a count of others' leases that fills any cap, for a publish
// to lease none of their deliveries, as PostgreSQL's publish reads them
// (othersOrHeldQuery). The engine's own memory of its holds does the same
// until a restart; the table's survive it. Nil when none is held, the
// common case.
func (s *Store) heldEndpoints(now time.Time) map[string]int {
	s.pace.mu.Lock()
	defer s.pace.mu.Unlock()
	var held map[string]int
	for id, until := range s.pace.holds {
		if !now.Before(until) {
			delete(s.pace.holds, id) // ended: the bucket keeps its time for claims
			continue
		}
		if held == nil {
			held = map[string]int{}
		}
		held[id] = hookline.MaxMaxConcurrency
	}
	return held
}

// forgetBucket drops a deleted endpoint's bucket from memory (its row
// goes in DeleteEndpoint's transaction).
func (s *Store) forgetBucket(id string) {
	s.pace.mu.Lock()
	defer s.pace.mu.Unlock()
	delete(s.pace.buckets, id)
	delete(s.pace.holds, id)
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
