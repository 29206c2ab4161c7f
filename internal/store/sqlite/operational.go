package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/hookline/hookline/internal/hookline"
)

// recordOperational records an operational event of type typ about
// endpoint endpointID in tx, copying the endpoint's URL, description and
// tenant as they are now. a is the attempt that made the change (nil for
// none). With quiet set, nothing is recorded when eventID is an operational
// event: its deliveries make no delivery.* events (see
// hookline.OperationalEvent).
func recordOperational(ctx context.Context, tx *sql.Tx, typ, endpointID, eventID string, a *hookline.Attempt, reason string, quiet bool, nowMS int64) error {
	var (
		hasAttempt   bool
		status       int
		errMsg, kind string
	)
	if a != nil {
		hasAttempt, status, errMsg, kind = true, a.ResponseStatus, a.Error, a.ErrorKind
	}
	// substr rather than LIKE, which ignores case in SQLite: only the exact
	// prefix is reserved.
	_, err := tx.ExecContext(ctx, `INSERT INTO operational_events (type, endpoint_id, endpoint_url, endpoint_description,
			tenant, event_id, has_attempt, attempt_status, attempt_error, attempt_error_kind, reason, created)
		SELECT ?, id, url, description, tenant, ?, ?, ?, ?, ?, ?, ? FROM endpoints
		WHERE id = ? AND NOT (? AND EXISTS (SELECT 1 FROM events WHERE id = ? AND substr(type, 1, ?) = ?))`,
		typ, eventID, hasAttempt, status, errMsg, kind, reason, nowMS,
		endpointID, quiet, eventID, len(hookline.OperationalPrefix), hookline.OperationalPrefix)
	if err != nil {
		return fmt.Errorf("recording %s: %w", typ, err)
	}
	return nil
}

// OperationalEvents returns up to limit recorded operational events, oldest
// first. It reads without flushing the journal (as the read pool's queries
// do): the events are written by committed transactions only, and a poll
// that flushed every second would write unsettled deliveries twice.
func (s *Store) OperationalEvents(ctx context.Context, limit int) ([]*hookline.OperationalEvent, error) {
	rows, err := s.r.db.QueryContext(ctx, `SELECT seq, key, type, endpoint_id, endpoint_url, endpoint_description, tenant,
			event_id, has_attempt, attempt_status, attempt_error, attempt_error_kind, reason, created
		FROM operational_events ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("listing operational events: %w", err)
	}
	defer rows.Close()
	var out []*hookline.OperationalEvent
	for rows.Next() {
		var (
			o          hookline.OperationalEvent
			a          hookline.OperationalAttempt
			hasAttempt bool
			created    int64
		)
		if err := rows.Scan(&o.Seq, &o.Key, &o.Type, &o.EndpointID, &o.EndpointURL, &o.EndpointDescription, &o.Tenant,
			&o.EventID, &hasAttempt, &a.Status, &a.Error, &a.ErrorKind, &o.Reason, &created); err != nil {
			return nil, fmt.Errorf("reading operational event: %w", err)
		}
		if hasAttempt {
			o.Attempt = &a
		}
		o.Created = fromMS(created)
		out = append(out, &o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing operational events: %w", err)
	}
	return out, nil
}

// DeleteOperationalEvents forgets published operational events.
func (s *Store) DeleteOperationalEvents(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	args := make([]any, len(seqs))
	for i, q := range seqs {
		args[i] = q
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM operational_events WHERE seq IN (?`+strings.Repeat(",?", len(seqs)-1)+`)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting operational events: %w", err)
	}
	return nil
}

// recordDisabledFailing records the endpoint.disabled event of an endpoint
// disabled for failing too long, naming its last attempt.
func recordDisabledFailing(ctx context.Context, tx *sql.Tx, endpointID, reason string, nowMS int64) error {
	var a hookline.Attempt
	err := tx.QueryRowContext(ctx, `SELECT event_id, response_status, error, error_kind FROM attempts
		WHERE endpoint_id = ? ORDER BY id DESC LIMIT 1`, endpointID).Scan(&a.EventID, &a.ResponseStatus, &a.Error, &a.ErrorKind)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return recordOperational(ctx, tx, hookline.OpEndpointDisabled, endpointID, "", nil, reason, false, nowMS)
	case err != nil:
		return fmt.Errorf("reading the last attempt of %s: %w", endpointID, err)
	}
	return recordOperational(ctx, tx, hookline.OpEndpointDisabled, endpointID, a.EventID, &a, reason, false, nowMS)
}
