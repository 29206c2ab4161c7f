package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// ClaimTasks leases up to limit due deliveries of enabled endpoints to owner,
// in one write transaction: one indexed SELECT in ready_at order, then one
// UPDATE per delivery through a prepared statement. The writer lock makes
// the pair atomic, so two claimers never get the same delivery.
func (s *Store) ClaimTasks(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*hookline.Task, error) {
	if limit <= 0 {
		return nil, nil
	}
	nowMS := ms(now)
	exp := now.Add(lease)
	expMS := ms(exp)
	var tasks []*hookline.Task
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, byID, err := s.enabledEndpoints(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT d.id, d.endpoint_id, d.attempts,
				e.id, e.type, e.created, e.tenant, e.payload, e.idempotency_key
			FROM deliveries d INDEXED BY deliveries_ready
			JOIN endpoints p ON p.id = d.endpoint_id
			JOIN events e ON e.id = d.event_id
			WHERE d.status = 'pending' AND d.ready_at <= ? AND p.status = 'enabled'
			ORDER BY d.ready_at
			LIMIT ?`, nowMS, limit)
		if err != nil {
			return fmt.Errorf("selecting due deliveries: %w", err)
		}
		defer rows.Close()
		copies := map[string]*hookline.Endpoint{}
		for rows.Next() {
			var (
				t          hookline.Task
				endpointID string
				attempts   int
			)
			ev, err := scanEvent(scanFunc(func(dest ...any) error {
				return rows.Scan(append([]any{&t.DeliveryID, &endpointID, &attempts}, dest...)...)
			}))
			if err != nil {
				return fmt.Errorf("reading due delivery: %w", err)
			}
			ep := copies[endpointID]
			if ep == nil {
				cached := byID[endpointID]
				if cached == nil { // the join says enabled, so the cache has it
					return fmt.Errorf("endpoint %s missing from the cache", endpointID)
				}
				cp := *cached // a fresh struct per call; slices and maps are shared read-only
				ep = &cp
				copies[endpointID] = ep
			}
			t.Attempt = attempts + 1
			t.Event = ev
			t.Endpoint = ep
			t.LeaseExpires = exp
			tasks = append(tasks, &t)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading due deliveries: %w", err)
		}
		rows.Close()
		if tasks, err = s.claimRequestTasks(ctx, tx, tasks, nowMS, exp, limit); err != nil { // inbound requests: inbound.go
			return err
		}
		lease := tx.StmtContext(ctx, s.stmts.leaseDelivery)
		for _, t := range tasks {
			if _, err := lease.ExecContext(ctx, owner, expMS, expMS, t.DeliveryID); err != nil {
				return fmt.Errorf("leasing delivery: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claiming tasks: %w", err)
	}
	return tasks, nil
}

// scanFunc adapts a function to scanner.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// CompleteTasks records attempts and the new state of their deliveries,
// durably before it returns: those of deliveries still only in the journal
// in a journal record (absorb), the others in one transaction.
func (s *Store) CompleteTasks(ctx context.Context, owner string, cs []hookline.Completion) error {
	if len(cs) == 0 {
		return nil
	}
	now := ms(s.now())
	cs, unflushed, err := s.absorb(owner, cs, now)
	if err != nil {
		return fmt.Errorf("completing tasks: %w", err)
	}
	if len(cs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err = s.writeJob(&writeJob{
		ctx: context.WithoutCancel(ctx),
		fn: func(ctx context.Context, tx *sql.Tx) error {
			return s.complete(ctx, tx, owner, cs, nil)
		},
		// Flushing unsettled events would send their completions here too.
		settledOnly: !unflushed,
	})
	if err != nil {
		return fmt.Errorf("completing tasks: %w", err)
	}
	return nil
}

// complete records attempts, their endpoints' health and their deliveries'
// new state, except for the deliveries in applied, written in that state
// already by a flush.
func (s *Store) complete(ctx context.Context, tx *sql.Tx, owner string, cs []hookline.Completion, applied map[string]bool) error {
	now := ms(s.now())
	finish := tx.StmtContext(ctx, s.stmts.finishDelivery)
	refs := tx.StmtContext(ctx, s.stmts.deliveryRefs)
	disable := tx.StmtContext(ctx, s.stmts.disableEP)
	attemptRows := make([][]any, 0, len(cs))
	// health is each endpoint's outcome over the batch, in order: one
	// statement per endpoint instead of one per attempt.
	type health struct {
		failingSince int64 // first failure after the batch's last success; 0 if none
		succeeded    bool  // some attempt succeeded
		// The attempts behind them, for the operational events, and the
		// 410 Gone that disabled the endpoint.
		failed, lastSuccess, gone *hookline.Attempt
		goneReason                string
	}
	healths := map[string]*health{}
	var order []string
	endpointsChanged := false
	var exhausted []*hookline.Attempt // deliveries finished as failed, their retries run out
	if err := s.recordAttemptStats(ctx, tx, cs); err != nil {
		return err
	}
	for _, c := range cs {
		a := c.Attempt
		if a.ID == "" {
			a.ID = hookline.NewID("atm")
		}
		if a.EventID == "" || a.EndpointID == "" {
			if err := refs.QueryRowContext(ctx, a.DeliveryID).Scan(&a.EventID, &a.EndpointID); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return hookline.NotFound("delivery", a.DeliveryID)
				}
				return fmt.Errorf("reading delivery %s: %w", a.DeliveryID, err)
			}
		}
		attemptRows = append(attemptRows, []any{a.ID, a.DeliveryID, a.EventID, a.EndpointID, a.Attempt, ms(a.Created),
			a.URL, a.ResponseStatus, a.DurationMS, a.Error, a.ErrorKind, a.ResponseBody, ms(a.NextRetry)})
		finished := applied[a.DeliveryID]
		if !finished {
			next := nextAttemptMS(c)
			res, err := finish.ExecContext(ctx, c.Status, next, next, now, a.DeliveryID, owner)
			if err != nil {
				return fmt.Errorf("updating delivery: %w", err)
			}
			n, _ := res.RowsAffected()
			finished = n > 0
			if !finished && s.waitsInMemory(a.DeliveryID) {
				// Its row is not written yet: recording the attempt alone
				// would leave the delivery pending, to be sent again.
				return fmt.Errorf("completing delivery %s: it is not in the database yet", a.DeliveryID)
			}
		}
		if finished && c.Status == hookline.DeliveryFailed && c.DisableEndpoint == "" {
			exhausted = append(exhausted, &a) // recorded after the endpoint's failing, as PostgreSQL does
		}
		h := healths[a.EndpointID]
		if h == nil {
			h = &health{}
			healths[a.EndpointID] = h
			order = append(order, a.EndpointID)
		}
		switch {
		case a.Succeeded():
			h.succeeded, h.failingSince, h.failed, h.lastSuccess = true, 0, nil, &a
		case h.failingSince == 0:
			h.failingSince, h.failed = ms(a.Created), &a
		}
		if c.DisableEndpoint != "" {
			// Whether it was enabled: only then is it an endpoint disabled,
			// for the operational event (a rare path, worth a read).
			var status string
			if err := tx.QueryRowContext(ctx, `SELECT status FROM endpoints WHERE id = ?`, a.EndpointID).Scan(&status); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("reading endpoint status: %w", err)
			}
			if _, err := disable.ExecContext(ctx, c.DisableEndpoint, now, a.EndpointID); err != nil {
				return fmt.Errorf("disabling endpoint: %w", err)
			}
			if status == hookline.EndpointEnabled {
				h.gone, h.goneReason = &a, c.DisableEndpoint // recorded after its failing, as PostgreSQL does
			}
			endpointsChanged = true
		}
	}
	if err := s.insAttempts.exec(ctx, tx, attemptRows); err != nil {
		return fmt.Errorf("inserting attempts: %w", err)
	}
	// Each statement changes the row only when the endpoint's state
	// changes, so a row changed is a transition to report. A batch that
	// succeeded and then failed clears, then sets: recovered, then failing.
	setFailing, clearFailing := tx.StmtContext(ctx, s.stmts.setFailing), tx.StmtContext(ctx, s.stmts.clearFailing)
	for _, id := range order {
		h := healths[id]
		if h.succeeded {
			res, err := clearFailing.ExecContext(ctx, id)
			if err != nil {
				return fmt.Errorf("updating endpoint health: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				endpointsChanged = true
				if err := recordOperational(ctx, tx, hookline.OpDeliveryRecovered, id, h.lastSuccess.EventID, h.lastSuccess, "", true, now); err != nil {
					return err
				}
			}
		}
		if h.failingSince != 0 {
			res, err := setFailing.ExecContext(ctx, h.failingSince, id)
			if err != nil {
				return fmt.Errorf("updating endpoint health: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				endpointsChanged = true
				if err := recordOperational(ctx, tx, hookline.OpDeliveryFailing, id, h.failed.EventID, h.failed, "", true, now); err != nil {
					return err
				}
			}
		}
		if h.gone != nil {
			if err := recordOperational(ctx, tx, hookline.OpEndpointDisabled, id, h.gone.EventID, h.gone, h.goneReason, false, now); err != nil {
				return err
			}
		}
	}
	for _, a := range exhausted {
		if err := recordOperational(ctx, tx, hookline.OpDeliveryExhausted, a.EndpointID, a.EventID, a, "", true, now); err != nil {
			return err
		}
	}
	if endpointsChanged {
		s.dropEndpointCache()
	}
	return nil
}

// ReleaseTasks gives deliveries leased to owner back, due at at.
func (s *Store) ReleaseTasks(ctx context.Context, owner string, deliveryIDs []string, at time.Time) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	atMS := ms(at)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		release := tx.StmtContext(ctx, s.stmts.releaseOne)
		for _, id := range deliveryIDs {
			if _, err := release.ExecContext(ctx, atMS, atMS, id, owner); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("releasing tasks: %w", err)
	}
	return nil
}

// ReleaseOwner gives back every delivery leased to owner. Each becomes due at
// its next_attempt_at, which was due when it was leased.
func (s *Store) ReleaseOwner(ctx context.Context, owner string) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_owner = '', lease_expires = 0, ready_at = next_attempt_at
			WHERE status = 'pending' AND lease_owner = ?`, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("releasing tasks of %s: %w", owner, err)
	}
	return nil
}

// Resend makes an event due again at now for one endpoint or for every
// enabled endpoint subscribed to it.
func (s *Store) Resend(ctx context.Context, eventID, endpointID string, now time.Time) ([]*hookline.Delivery, error) {
	nowMS := ms(now)
	var out []*hookline.Delivery
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ev, err := scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, eventID))
		if errors.Is(err, sql.ErrNoRows) {
			return hookline.NotFound("event", eventID)
		}
		if err != nil {
			return fmt.Errorf("reading event: %w", err)
		}
		var targets []string
		if endpointID != "" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM endpoints WHERE id = ?`, endpointID).Scan(&n); err != nil {
				return fmt.Errorf("reading endpoint: %w", err)
			}
			if n == 0 {
				return hookline.NotFound("endpoint", endpointID)
			}
			targets = []string{endpointID}
		} else {
			endpoints, _, err := s.enabledEndpoints(ctx, tx)
			if err != nil {
				return err
			}
			doc := &hookline.EventDocument{Event: ev}
			for _, ep := range endpoints {
				if ep.Accepts(doc) {
					targets = append(targets, ep.ID)
				}
			}
		}
		out, err = redeliver(ctx, tx, eventID, targets, nowMS)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("resending event: %w", err)
	}
	return out, nil
}

// requeuedSince is the pending_since of a delivery a resend or recover puts
// back to pending: it waits from now, unless it was still waiting.
const requeuedSince = `CASE WHEN deliveries.status = 'pending' THEN deliveries.pending_since ELSE excluded.updated END`

// redeliver makes the delivery of eventID (an event's id or a captured
// request's) to each target pending and due at nowMS, inserting it where
// there is none, and returns the deliveries in targets order.
func redeliver(ctx context.Context, tx *sql.Tx, eventID string, targets []string, nowMS int64) ([]*hookline.Delivery, error) {
	var out []*hookline.Delivery
	for _, target := range targets {
		d, err := scanDelivery(tx.QueryRowContext(ctx, `INSERT INTO deliveries
			(id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_owner, lease_expires, ready_at, created, updated)
			VALUES (?, ?, ?, 'pending', 0, ?, '', 0, ?, ?, ?)
			ON CONFLICT (event_id, endpoint_id) DO UPDATE SET status = 'pending', next_attempt_at = excluded.next_attempt_at,
				lease_owner = '', lease_expires = 0, ready_at = excluded.ready_at, updated = excluded.updated,
				pending_since = `+requeuedSince+`
			RETURNING `+deliveryColumns,
			hookline.NewID("dlv"), eventID, target, nowMS, nowMS, nowMS, nowMS))
		if err != nil {
			return nil, fmt.Errorf("resending to %s: %w", target, err)
		}
		out = append(out, d)
	}
	return out, nil
}

const attemptColumns = `id, delivery_id, event_id, endpoint_id, attempt, created, url, response_status, duration_ms,
	error, error_kind, response_body, next_retry`

func scanAttempt(sc scanner) (*hookline.Attempt, error) {
	var (
		a                  hookline.Attempt
		created, nextRetry int64
	)
	if err := sc.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.EndpointID, &a.Attempt, &created, &a.URL,
		&a.ResponseStatus, &a.DurationMS, &a.Error, &a.ErrorKind, &a.ResponseBody, &nextRetry); err != nil {
		return nil, err
	}
	a.Created, a.NextRetry = fromMS(created), fromMS(nextRetry)
	return &a, nil
}

// ListAttempts returns one page of attempts, newest first.
func (s *Store) ListAttempts(ctx context.Context, f hookline.AttemptFilter) ([]*hookline.Attempt, bool, error) {
	q := `SELECT ` + attemptColumns + ` FROM attempts WHERE 1`
	var args []any
	if f.EventID != "" {
		q += ` AND event_id = ?`
		args = append(args, f.EventID)
	}
	if f.EndpointID != "" {
		q += ` AND endpoint_id = ?`
		args = append(args, f.EndpointID)
	}
	out, more, err := listPage(ctx, s.r, q, args, f.Page, scanAttempt)
	if err != nil {
		return nil, false, fmt.Errorf("listing attempts: %w", err)
	}
	return out, more, nil
}

// Backlog counts pending deliveries and when the oldest started waiting.
func (s *Store) Backlog(ctx context.Context) (hookline.Backlog, error) {
	var (
		b      hookline.Backlog
		oldest sql.NullInt64
	)
	// The oldest is the first entry of deliveries_pending_since (0751), not
	// a min() over every pending row.
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending'),
		(SELECT COALESCE(pending_since, created) FROM deliveries WHERE status = 'pending'
			ORDER BY COALESCE(pending_since, created) LIMIT 1)`).
		Scan(&b.Pending, &oldest); err != nil {
		return b, fmt.Errorf("counting backlog: %w", err)
	}
	if oldest.Valid {
		b.Oldest = fromMS(oldest.Int64)
	}
	return b, nil
}

// Setting returns a stored setting, or ENOTFOUND.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", hookline.NotFound("setting", name)
	}
	if err != nil {
		return "", fmt.Errorf("reading setting: %w", err)
	}
	return v, nil
}

// SetSetting stores a setting, replacing any earlier value.
func (s *Store) SetSetting(ctx context.Context, name, value string) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing setting: %w", err)
	}
	return nil
}

// nextAttemptMS is when a delivery is due after completion c: its retry,
// or 0 once it has succeeded or failed for good. A flush writes it for
// deliveries completed in memory; complete, for the others.
func nextAttemptMS(c hookline.Completion) int64 {
	if c.Status == hookline.DeliveryPending {
		return ms(c.Attempt.NextRetry)
	}
	return 0
}
