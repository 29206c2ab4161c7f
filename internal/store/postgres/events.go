package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
)

const eventColumns = `id, type, created, tenant, payload, idempotency_key`

func scanEvent(row pgx.Row) (*hookline.Event, error) {
	var e hookline.Event
	if err := row.Scan(&e.ID, &e.Type, &e.Created, &e.Tenant, &e.Payload, &e.IdempotencyKey); err != nil {
		return nil, err
	}
	e.Created = e.Created.UTC()
	return &e, nil
}

// PublishEvents stores events and fans them out in one transaction of a few
// round trips, whatever the batch size: idempotency keys (one upsert that
// also detects duplicates), then the events and the fan-out query in one
// pipelined batch, then every delivery in one insert.
func (s *Store) PublishEvents(ctx context.Context, events []*hookline.Event, opts hookline.PublishOptions) ([]hookline.Published, error) {
	if len(events) == 0 {
		return nil, nil
	}
	now := opts.Now
	if now.IsZero() {
		now = s.now()
	}
	var keyCutoff any // NULL: no window, every key is new
	if opts.IdempotencyWindow > 0 {
		keyCutoff = ts(now.Add(-opts.IdempotencyWindow))
	}
	leaseOwner, leaseExp := opts.LeaseOwner, msTime(opts.LeaseExpires)

	// The first event of the batch with each key claims it; later ones are
	// duplicates of whatever the first turns out to be.
	firstWithKey := map[string]int{}
	var keys []string
	for i, ev := range events {
		if ev.IdempotencyKey == "" {
			continue
		}
		if _, ok := firstWithKey[ev.IdempotencyKey]; !ok {
			firstWithKey[ev.IdempotencyKey] = i
			keys = append(keys, ev.IdempotencyKey)
		}
	}
	// Sorted, so that concurrent publishers lock keys in the same order.
	sort.Strings(keys)

	out := make([]hookline.Published, len(events))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		originals := map[string]*hookline.Event{} // key → the event that holds it, for duplicates
		if len(keys) > 0 {
			keyEvents := make([]string, len(keys))
			for i, k := range keys {
				keyEvents[i] = events[firstWithKey[k]].ID
			}
			// The upsert takes a key whose last use is outside the window
			// and leaves the others: a key it does not return is a
			// duplicate. A concurrent publisher of the same key waits here
			// for this transaction, then sees its row.
			rows, err := tx.Query(ctx, `INSERT INTO idempotency_keys (key, event_id, published)
				SELECT k, e, $3 FROM unnest($1::text[], $2::text[]) AS x(k, e) ORDER BY k
				ON CONFLICT (key) DO UPDATE SET event_id = excluded.event_id, published = excluded.published
				WHERE $4::timestamptz IS NULL OR idempotency_keys.published <= $4
				RETURNING key`, keys, keyEvents, ts(now), keyCutoff)
			if err != nil {
				return fmt.Errorf("storing idempotency keys: %w", err)
			}
			taken, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return fmt.Errorf("storing idempotency keys: %w", err)
			}
			if len(taken) < len(keys) {
				isTaken := make(map[string]bool, len(taken))
				for _, k := range taken {
					isTaken[k] = true
				}
				var dups []string
				for _, k := range keys {
					if !isTaken[k] {
						dups = append(dups, k)
					}
				}
				rows, err := tx.Query(ctx, `SELECT k.key, e.id, e.type, e.created, e.tenant, e.payload, e.idempotency_key
					FROM idempotency_keys k JOIN events e ON e.id = k.event_id WHERE k.key = ANY($1)`, dups)
				if err != nil {
					return fmt.Errorf("reading events of idempotency keys: %w", err)
				}
				err = func() error {
					defer rows.Close()
					for rows.Next() {
						var key string
						var e hookline.Event
						if err := rows.Scan(&key, &e.ID, &e.Type, &e.Created, &e.Tenant, &e.Payload, &e.IdempotencyKey); err != nil {
							return err
						}
						e.Created = e.Created.UTC()
						originals[key] = &e
					}
					return rows.Err()
				}()
				if err != nil {
					return fmt.Errorf("reading events of idempotency keys: %w", err)
				}
			}
		}

		// Sort the batch into new events and duplicates, and group the new
		// ones by (type, tenant), which is all that fan-out depends on.
		// A test event (OnlyEndpoint) is a combo of its own, matched by id
		// instead of by subscription.
		type combo struct{ typ, tenant, only string }
		comboOf := map[combo]int{} // 1-based, as SQL arrays are
		var (
			comboTenants               []string
			patCombo                   []int32
			patText                    []string
			onlyCombo                  []int32
			onlyID                     []string
			fresh                      []int
			ids, types, tenants, ikeys []string
			created                    []time.Time
			payloads                   [][]byte
		)
		for i, ev := range events {
			if k := ev.IdempotencyKey; k != "" {
				if orig := originals[k]; orig != nil {
					out[i] = hookline.Published{Event: orig, Duplicate: true}
					continue
				}
				if j := firstWithKey[k]; j != i {
					out[i] = hookline.Published{Event: events[j], Duplicate: true}
					continue
				}
			}
			fresh = append(fresh, i)
			payload := ev.Payload
			if payload == nil {
				payload = []byte{}
			}
			ids, types, tenants, ikeys = append(ids, ev.ID), append(types, ev.Type), append(tenants, ev.Tenant), append(ikeys, ev.IdempotencyKey)
			created, payloads = append(created, msTime(ev.Created)), append(payloads, payload)
			c := combo{ev.Type, ev.Tenant, ev.OnlyEndpoint}
			if _, ok := comboOf[c]; !ok {
				comboOf[c] = len(comboOf) + 1
				comboTenants = append(comboTenants, ev.Tenant)
				if ev.OnlyEndpoint != "" {
					onlyCombo, onlyID = append(onlyCombo, int32(comboOf[c])), append(onlyID, ev.OnlyEndpoint)
				} else {
					// An endpoint matches the type exactly when its
					// enabled_events shares one of these patterns, which
					// the GIN index on enabled_events answers.
					for _, p := range hookline.MatchingPatterns(ev.Type) {
						patCombo, patText = append(patCombo, int32(comboOf[c])), append(patText, p)
					}
				}
			}
		}
		if len(fresh) == 0 {
			return nil
		}

		b := &pgx.Batch{}
		b.Queue(`INSERT INTO events (`+eventColumns+`)
			SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::bytea[], $6::text[])`,
			ids, types, created, tenants, payloads, ikeys)
		fanOut := `SELECT DISTINCT ON (p.combo, e.id) p.combo, ` + endpointColumnsOf("e") + `
			FROM unnest($1::int[], $2::text[]) AS p(combo, pattern)
			JOIN endpoints e ON e.enabled_events @> ARRAY[p.pattern]
			WHERE e.status = 'enabled' AND (e.tenant = '' OR e.tenant = ($3::text[])[p.combo])
			ORDER BY p.combo, e.id`
		fanOutArgs := []any{patCombo, patText, comboTenants}
		if len(onlyID) > 0 { // only then, so that the usual query stays as it was
			fanOut = `(` + fanOut + `) UNION ALL (SELECT o.combo, ` + endpointColumnsOf("e") + `
				FROM unnest($4::int[], $5::text[]) AS o(combo, id)
				JOIN endpoints e ON e.id = o.id WHERE e.status = 'enabled')`
			fanOutArgs = append(fanOutArgs, onlyCombo, onlyID)
		}
		b.Queue(fanOut, fanOutArgs...)
		leasing := leaseOwner != ""
		if leasing {
			// Leasing at publish keeps every endpoint's cap over all nodes,
			// as a claim does: under the claim lock, counting the other
			// owners' leases in a statement (a snapshot) taken after it.
			// Without the lock (a claim or another node's publish holds
			// it) nothing is leased here; the claims take it all.
			b.Queue(`SELECT pg_try_advisory_xact_lock($1)`, claimLockKey)
			b.Queue(othersOrHeldQuery, leaseOwner, ts(now))
		}
		br := tx.SendBatch(ctx, b)
		if _, err := br.Exec(); err != nil {
			br.Close()
			if hookline.ErrorCode(translate(err)) == hookline.ECONFLICT {
				return hookline.Errorf(hookline.ECONFLICT, "an event id of the batch already exists")
			}
			return fmt.Errorf("inserting events: %w", err)
		}
		rows, err := br.Query()
		if err != nil {
			br.Close()
			return fmt.Errorf("matching endpoints: %w", err)
		}
		targets := map[int][]*hookline.Endpoint{} // combo → endpoints, in id order
		_, err = collect(rows, func(row pgx.Row) (struct{}, error) {
			var c int
			var e hookline.Endpoint
			dest, done := s.endpointDest(&e)
			if err := row.Scan(append([]any{&c}, dest...)...); err != nil {
				return struct{}{}, err
			}
			if err := done(); err != nil {
				return struct{}{}, err
			}
			targets[c] = append(targets[c], &e)
			return struct{}{}, nil
		})
		if err != nil {
			br.Close()
			return fmt.Errorf("matching endpoints: %w", err)
		}
		var others map[string]int
		if leasing {
			if err := br.QueryRow().Scan(&leasing); err != nil {
				br.Close()
				return fmt.Errorf("taking the claim lock: %w", err)
			}
			rows, err := br.Query()
			if err != nil {
				br.Close()
				return fmt.Errorf("counting leases: %w", err)
			}
			if others, err = collectCounts(rows); err != nil {
				br.Close()
				return fmt.Errorf("counting leases: %w", err)
			}
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("publishing: %w", err)
		}

		var dIDs, dEvents, dEndpoints, dOwners []string
		var dDue []time.Time
		var dExps []*time.Time
		for _, i := range fresh {
			ev := events[i]
			p := hookline.Published{Event: ev}
			doc := &hookline.EventDocument{Event: ev}
			for _, ep := range targets[comboOf[combo{ev.Type, ev.Tenant, ev.OnlyEndpoint}]] {
				if ev.OnlyEndpoint == "" && !ep.Filter.Match(doc) {
					continue // the query matched type and tenant; the filter looks inside
				}
				id := hookline.NewID("dlv")
				dIDs, dEvents, dEndpoints, dDue = append(dIDs, id), append(dEvents, ev.ID), append(dEndpoints, ep.ID), append(dDue, msTime(ev.Created))
				p.Deliveries++
				if leasing && opts.Leases(ep, others[ep.ID]) {
					cp := *ep // each task its own struct; slices and maps are shared read-only
					p.Tasks = append(p.Tasks, &hookline.Task{
						DeliveryID: id, Attempt: 1, Event: ev, Endpoint: &cp, LeaseExpires: opts.LeaseExpires,
					})
					dOwners, dExps = append(dOwners, leaseOwner), append(dExps, &leaseExp)
				} else {
					dOwners, dExps = append(dOwners, ""), append(dExps, nil)
				}
			}
			out[i] = p
		}
		if len(dIDs) == 0 {
			return nil
		}
		// GREATEST skips NULLs: without a lease, ready_at is the due time.
		_, err = tx.Exec(ctx, `INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at,
				lease_owner, lease_expires, ready_at, paused, created, updated)
			SELECT id, ev, ep, 'pending', 0, due, owner, exp, GREATEST(due, exp), false, $7, $7
			FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::timestamptz[])
				AS x(id, ev, ep, due, owner, exp)`,
			dIDs, dEvents, dEndpoints, dDue, dOwners, dExps, ts(now))
		if err != nil {
			return fmt.Errorf("inserting deliveries: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("publishing events: %w", err)
	}
	return out, nil
}

// Event returns the event with that id, or ENOTFOUND.
func (s *Store) Event(ctx context.Context, id string) (*hookline.Event, error) {
	e, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`, id))
	if err != nil {
		if hookline.ErrorCode(translate(err)) == hookline.ENOTFOUND {
			return nil, hookline.NotFound("event", id)
		}
		return nil, fmt.Errorf("reading event: %w", err)
	}
	return e, nil
}

// ListEvents returns one page of events, newest first.
func (s *Store) ListEvents(ctx context.Context, f hookline.EventFilter) ([]*hookline.Event, bool, error) {
	list, more, err := listPage(ctx, s.pool, f.Page, scanEvent, `SELECT `+eventColumns+` FROM events
		WHERE ($1 = '' OR type = $1) AND ($2 = '' OR tenant = $2) AND ($3 = '' OR id < $3)
		ORDER BY id DESC LIMIT $4`, f.Type, f.Tenant, f.StartingAfter)
	if err != nil {
		return nil, false, fmt.Errorf("listing events: %w", err)
	}
	return list, more, nil
}

const deliveryColumns = `id, event_id, endpoint_id, status, attempts, next_attempt_at, created, updated`

func scanDelivery(row pgx.Row) (*hookline.Delivery, error) {
	var (
		d       hookline.Delivery
		next    *time.Time
		created time.Time
		updated time.Time
	)
	if err := row.Scan(&d.ID, &d.EventID, &d.EndpointID, &d.Status, &d.Attempts, &next, &created, &updated); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.Created, d.Updated = fromTS(next), created.UTC(), updated.UTC()
	return &d, nil
}

// Deliveries returns the deliveries of one event, oldest first.
func (s *Store) Deliveries(ctx context.Context, eventID string) ([]*hookline.Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE event_id = $1 ORDER BY id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("listing deliveries: %w", err)
	}
	list, err := collect(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("listing deliveries: %w", err)
	}
	return list, nil
}
