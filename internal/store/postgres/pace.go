package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
)

// paceColumns are the ordering, rate limit and bucket of endpoint p (b its
// endpoint_buckets row), as a claim reads them: paceRow.
const paceColumns = `p.ordering, p.rate_per_second, p.rate_burst, COALESCE(b.tokens, 0), b.at, b.hold_until`

// paceRow is what a claim reads of an endpoint's pacing.
type paceRow struct {
	ordering  string
	perSecond float64
	burst     int32
	tokens    float64
	at, until *time.Time
}

func (p *paceRow) dest() []any {
	return []any{&p.ordering, &p.perSecond, &p.burst, &p.tokens, &p.at, &p.until}
}

// apply sets ep's ordering and rate limit.
func (p *paceRow) apply(ep *hookline.Endpoint) {
	ep.Ordering = p.ordering
	if p.perSecond > 0 {
		ep.RateLimit = &hookline.RateLimit{PerSecond: p.perSecond, Burst: int(p.burst)}
	}
}

func (p *paceRow) bucket() hookline.Bucket {
	return hookline.Bucket{Tokens: p.tokens, At: fromTS(p.at), Until: fromTS(p.until)}
}

// pacedTargets are the FIFO and rate-limited endpoints a claim may lease
// for, by id.
type pacedTargets struct {
	fifo    map[string]bool
	limited map[string]*hookline.RateLimit
	buckets map[string]hookline.Bucket
}

// note records ep if it is paced.
func (p *pacedTargets) note(ep *hookline.Endpoint, b hookline.Bucket) {
	if p.fifo == nil {
		p.fifo, p.limited, p.buckets = map[string]bool{}, map[string]*hookline.RateLimit{}, map[string]hookline.Bucket{}
	}
	if ep.FIFO() {
		p.fifo[ep.ID] = true
	}
	if ep.RateLimit != nil {
		p.limited[ep.ID], p.buckets[ep.ID] = ep.RateLimit, b
	}
}

// headsOrNone is t.heads, or no head for any target.
func (t claimTargets) headsOrNone() []string {
	if t.heads != nil {
		return t.heads
	}
	return make([]string, len(t.ids))
}

// fifoHeads gives each FIFO endpoint of t its head: its oldest pending
// delivery in publish order (seq, which the inserts of every node draw
// from one sequence), through deliveries_endpoint_order. One whose
// head is not due (a retry waits, or it is leased) or is paused leases
// nothing: it leaves t. Its room is 1 (hookline.ConcurrencyOf), and 0
// while any of its deliveries is leased, so it was in t only without
// leases; the claim lock keeps other claims out meanwhile, and publishes
// do not lease its deliveries (PublishOptions.Leases).
func (s *Store) fifoHeads(ctx context.Context, tx pgx.Tx, now time.Time, t claimTargets, paced pacedTargets) (claimTargets, error) {
	var ids []string
	for _, id := range t.ids {
		if paced.fifo[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return t, nil
	}
	rows, err := tx.Query(ctx, `SELECT h.endpoint_id, h.id FROM unnest($1::text[]) AS w(endpoint_id) CROSS JOIN LATERAL (
			SELECT d.endpoint_id, d.id, d.ready_at, d.paused FROM deliveries d
			WHERE d.endpoint_id = w.endpoint_id AND d.status = 'pending'
			ORDER BY d.seq LIMIT 1
		) h WHERE h.ready_at <= $2 AND NOT h.paused`, ids, ts(now))
	if err != nil {
		return t, fmt.Errorf("finding FIFO heads: %w", err)
	}
	heads := map[string]string{}
	_, err = collect(rows, func(row pgx.Row) (struct{}, error) {
		var ep, id string
		err := row.Scan(&ep, &id)
		heads[ep] = id
		return struct{}{}, err
	})
	if err != nil {
		return t, fmt.Errorf("finding FIFO heads: %w", err)
	}
	var out claimTargets
	for i, id := range t.ids {
		head := heads[id]
		if paced.fifo[id] && head == "" {
			continue
		}
		out.ids, out.rooms, out.exps = append(out.ids, id), append(out.rooms, t.rooms[i]), append(out.exps, t.exps[i])
		out.heads = append(out.heads, head)
	}
	return out, nil
}

// takeTokens takes from the buckets of the rate-limited endpoints the
// deliveries tasks leased, in the claim's transaction.
func (s *Store) takeTokens(ctx context.Context, tx pgx.Tx, now time.Time, tasks []*hookline.Task, paced pacedTargets) error {
	if len(paced.limited) == 0 {
		return nil
	}
	n := map[string]int{}
	for _, t := range tasks {
		if paced.limited[t.Endpoint.ID] != nil {
			n[t.Endpoint.ID]++
		}
	}
	var ids []string
	var tokens []float64
	for id, k := range n {
		b := paced.buckets[id].Take(paced.limited[id], now, k)
		ids, tokens = append(ids, id), append(tokens, b.Tokens)
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO endpoint_buckets (endpoint_id, tokens, at)
		SELECT * FROM unnest($1::text[], $2::float8[], array_fill($3::timestamptz, ARRAY[cardinality($1::text[])]))
		ON CONFLICT (endpoint_id) DO UPDATE SET tokens = excluded.tokens, at = excluded.at`, ids, tokens, ts(now))
	if err != nil {
		return fmt.Errorf("taking rate limit tokens: %w", err)
	}
	return nil
}

// EndpointHold returns endpoint id's hold, as every node sharing the
// database sees it.
func (s *Store) EndpointHold(ctx context.Context, id string) (time.Time, error) {
	var until *time.Time
	err := s.pool.QueryRow(ctx, `SELECT hold_until FROM endpoint_buckets WHERE endpoint_id = $1`, id).Scan(&until)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, fmt.Errorf("reading the hold of endpoint %s: %w", id, err)
	}
	return fromTS(until), nil
}

// othersOrHeldQuery is othersLeasesQuery for a publish: an endpoint held
// (HoldEndpoint) counts as full, so that a publish leases none of its
// deliveries before the hold ends.
const othersOrHeldQuery = `SELECT endpoint_id, sum(n)::bigint FROM (` + othersLeasesQuery + `
	UNION ALL
	SELECT endpoint_id, ` + heldCount + ` FROM endpoint_buckets WHERE hold_until > $2) x
	GROUP BY endpoint_id`

// heldCount is what a held endpoint's count of leases reads as: more than
// any cap.
const heldCount = "1000000"
