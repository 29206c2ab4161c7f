package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
