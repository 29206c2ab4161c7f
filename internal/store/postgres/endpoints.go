package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

const endpointColumns = `id, url, enabled_events, description, metadata, tenant, status, disabled_reason,
	signature_scheme, secret, previous_secret, previous_secret_expires, failing_since, created, updated,
	filter, headers, retry_schedule, max_concurrency, timeout_ms, ordering, rate_per_second, rate_burst, breaker_failures`

// circuitColumns are the circuit's, which only CompleteTasks writes.
const circuitColumns = `circuit_state, consecutive_failures, circuit_opened_at, circuit_next_probe_at, circuit_cooldown_ms`

// endpointSelect is what endpointDest scans: endpointColumns and the
// circuit.
const endpointSelect = endpointColumns + `, ` + circuitColumns

// endpointColumnsOf is endpointColumns qualified with a table alias, for
// joins.
func endpointColumnsOf(alias string) string {
	a := alias + "."
	return a + `id, ` + a + `url, ` + a + `enabled_events, ` + a + `description, ` + a + `metadata, ` +
		a + `tenant, ` + a + `status, ` + a + `disabled_reason, ` + a + `signature_scheme, ` + a + `secret, ` +
		a + `previous_secret, ` + a + `previous_secret_expires, ` + a + `failing_since, ` + a + `created, ` + a + `updated, ` +
		a + `filter, ` + a + `headers, ` + a + `retry_schedule, ` + a + `max_concurrency, ` + a + `timeout_ms, ` +
		a + `ordering, ` + a + `rate_per_second, ` + a + `rate_burst, ` + a + `breaker_failures, ` +
		a + `circuit_state, ` + a + `consecutive_failures, ` + a + `circuit_opened_at, ` + a + `circuit_next_probe_at, ` +
		a + `circuit_cooldown_ms`
}

// endpointDest returns the scan destinations of endpointColumns for e, and a
// function to call after the scan, which opens its secrets.
func (s *Store) endpointDest(e *hookline.Endpoint) ([]any, func() error) {
	var prevExp, failing *time.Time
	var created, updated time.Time
	var filter string
	var schedule []int64
	var maxConcurrency, breakerFailures, consecutive int32
	var timeoutMS, coolDownMS int64
	var opened, probe *time.Time
	var ratePerSecond float64
	var rateBurst int32
	dest := []any{&e.ID, &e.URL, &e.EnabledEvents, &e.Description, &e.Metadata, &e.Tenant, &e.Status,
		&e.DisabledReason, &e.SignatureScheme, &e.Secret, &e.PreviousSecret, &prevExp, &failing, &created, &updated,
		&filter, &e.Headers, &schedule, &maxConcurrency, &timeoutMS, &e.Ordering, &ratePerSecond, &rateBurst, &breakerFailures,
		&e.Circuit.State, &consecutive, &opened, &probe, &coolDownMS}
	return dest, func() error {
		e.MaxConcurrency, e.Timeout = int(maxConcurrency), time.Duration(timeoutMS)*time.Millisecond
		if ratePerSecond > 0 {
			e.RateLimit = &hookline.RateLimit{PerSecond: ratePerSecond, Burst: int(rateBurst)}
		}
		e.BreakerFailures, e.Circuit.ConsecutiveFailures = int(breakerFailures), int(consecutive)
		e.Circuit.OpenedAt, e.Circuit.NextProbeAt = fromTS(opened), fromTS(probe)
		e.Circuit.CoolDown = time.Duration(coolDownMS) * time.Millisecond
		sqlcore.OpenEndpoint(s.seal, e)
		if filter != "" {
			f, err := hookline.ParseFilter([]byte(filter), hookline.EventFilterFields)
			if err != nil {
				return fmt.Errorf("decoding filter of %s: %w", e.ID, err)
			}
			e.Filter = f
		}
		if schedule != nil {
			e.RetrySchedule = make([]time.Duration, len(schedule))
			for i, v := range schedule {
				e.RetrySchedule[i] = time.Duration(v) * time.Millisecond
			}
		}
		e.PreviousSecretExpires, e.FailingSince = fromTS(prevExp), fromTS(failing)
		e.Created, e.Updated = created.UTC(), updated.UTC()
		if e.EnabledEvents == nil {
			e.EnabledEvents = []string{}
		}
		if e.Metadata == nil {
			e.Metadata = map[string]string{}
		}
		return nil
	}
}

func (s *Store) scanEndpoint(row pgx.Row) (*hookline.Endpoint, error) {
	var e hookline.Endpoint
	dest, done := s.endpointDest(&e)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if err := done(); err != nil {
		return nil, err
	}
	return &e, nil
}

// endpointArgs returns e's columns in endpointColumns order, its secrets
// and header values sealed. Nil lists and maps are stored empty, as the SQLite store does.
func (s *Store) endpointArgs(e *hookline.Endpoint) ([]any, error) {
	sealed, err := sqlcore.SealEndpoint(s.seal, e)
	if err != nil {
		return nil, err
	}
	events := e.EnabledEvents
	if events == nil {
		events = []string{}
	}
	meta := e.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	var ratePerSecond float64
	var rateBurst int32
	if e.RateLimit != nil {
		ratePerSecond, rateBurst = e.RateLimit.PerSecond, int32(e.RateLimit.Burst)
	}
	var schedule []int64 // NULL: the server's schedule
	if e.RetrySchedule != nil {
		schedule = make([]int64, len(e.RetrySchedule))
		for i, d := range e.RetrySchedule {
			schedule[i] = d.Milliseconds()
		}
	}
	return []any{e.ID, e.URL, events, e.Description, meta, e.Tenant, e.Status, e.DisabledReason,
		e.SignatureScheme, sealed.Secret, sealed.PreviousSecret, ts(e.PreviousSecretExpires), ts(e.FailingSince),
		ts(e.Created), ts(e.Updated), string(e.Filter.JSON()), headersArg(sealed.Headers), schedule,
		int32(e.MaxConcurrency), e.Timeout.Milliseconds(), e.Ordering, ratePerSecond, rateBurst, int32(e.BreakerFailures)}, nil
}

// headersArg is the headers column's argument: a JSON object, or nil
// where the column keeps what it holds (sqlcore.SealEndpoint).
func headersArg(sealed any) any {
	if sealed == nil {
		return nil
	}
	return map[string]string(sealed.(hookline.Headers))
}

// CreateEndpoint inserts e. Returns ECONFLICT if its id is taken.
func (s *Store) CreateEndpoint(ctx context.Context, e *hookline.Endpoint) error {
	args, err := s.endpointArgs(e)
	if err != nil {
		return fmt.Errorf("creating endpoint: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO endpoints (`+endpointColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`, args...)
	if err != nil {
		if hookline.ErrorCode(translate(err)) == hookline.ECONFLICT {
			return hookline.Errorf(hookline.ECONFLICT, "endpoint %q already exists", e.ID)
		}
		return fmt.Errorf("creating endpoint: %w", err)
	}
	return nil
}

// Endpoint returns the endpoint with that id, or ENOTFOUND.
func (s *Store) Endpoint(ctx context.Context, id string) (*hookline.Endpoint, error) {
	e, err := s.scanEndpoint(s.pool.QueryRow(ctx, `SELECT `+endpointSelect+` FROM endpoints WHERE id = $1`, id))
	if err != nil {
		if hookline.ErrorCode(translate(err)) == hookline.ENOTFOUND {
			return nil, hookline.NotFound("endpoint", id)
		}
		return nil, fmt.Errorf("reading endpoint: %w", err)
	}
	return e, nil
}

// ListEndpoints returns one page of endpoints, newest first.
func (s *Store) ListEndpoints(ctx context.Context, f hookline.EndpointFilter) ([]*hookline.Endpoint, bool, error) {
	// '' stands for "no filter": the planner folds the OR away for a given
	// value, and one query text keeps one prepared statement.
	list, more, err := listPage(ctx, s.pool, f.Page, s.scanEndpoint, `SELECT `+endpointSelect+` FROM endpoints
		WHERE ($1 = '' OR tenant = $1) AND ($2 = '' OR id < $2)
		ORDER BY id DESC LIMIT $3`, f.Tenant, f.StartingAfter)
	if err != nil {
		return nil, false, fmt.Errorf("listing endpoints: %w", err)
	}
	return list, more, nil
}

// UpdateEndpoint writes every field of e but ID and Created, and pauses or
// resumes its pending deliveries when its status changes.
func (s *Store) UpdateEndpoint(ctx context.Context, e *hookline.Endpoint) error {
	args, err := s.endpointArgs(e)
	if err != nil {
		return fmt.Errorf("updating endpoint: %w", err)
	}
	args = append(args[:13], args[14:]...) // every column but created
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE endpoints SET url = $2, enabled_events = $3, description = $4,
			metadata = $5, tenant = $6, status = $7, disabled_reason = $8, signature_scheme = $9,
			secret = COALESCE($10, secret), previous_secret = COALESCE($11, previous_secret),
			previous_secret_expires = $12, failing_since = $13, updated = $14,
			filter = $15, headers = COALESCE($16, headers), retry_schedule = $17, max_concurrency = $18, timeout_ms = $19,
			ordering = $20, rate_per_second = $21, rate_burst = $22, breaker_failures = $23
			WHERE id = $1`, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return hookline.NotFound("endpoint", e.ID)
		}
		return setPaused(ctx, tx, []string{e.ID}, e.Status != hookline.EndpointEnabled)
	})
	if err != nil {
		return fmt.Errorf("updating endpoint: %w", err)
	}
	return nil
}

// setPaused marks the pending deliveries of endpoints as paused (their
// endpoint is disabled) or not. Callers hold the endpoints' row locks, taken
// by updating them first, so that this runs in the same order everywhere:
// endpoint rows, then delivery rows.
func setPaused(ctx context.Context, tx pgx.Tx, endpointIDs []string, paused bool) error {
	_, err := tx.Exec(ctx, `UPDATE deliveries SET paused = $2
		WHERE endpoint_id = ANY($1) AND status = 'pending' AND paused <> $2`, endpointIDs, paused)
	if err != nil {
		return fmt.Errorf("pausing deliveries: %w", err)
	}
	return nil
}

// DeleteEndpoint removes the endpoint and cancels its pending deliveries.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	return s.deleteTarget(ctx, "endpoints", "endpoint", id)
}

// deleteTarget deletes row id of table, endpoints or connections, and
// cancels its pending deliveries (deliveries.endpoint_id names either), in
// one transaction. kind names the row in errors.
func (s *Store) deleteTarget(ctx context.Context, table, kind, id string) error {
	now := ts(s.now())
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return hookline.NotFound(kind, id)
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'canceled', lease_owner = '', lease_expires = NULL,
			next_attempt_at = NULL, ready_at = NULL, updated = $2
			WHERE endpoint_id = $1 AND status = 'pending'`, id, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting %s: %w", kind, err)
	}
	return nil
}

// DisableFailingEndpoints disables enabled endpoints failing since before
// cutoff and returns their ids, sorted.
func (s *Store) DisableFailingEndpoints(ctx context.Context, cutoff time.Time, reason string) ([]string, error) {
	var ids []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE endpoints SET status = 'disabled', disabled_reason = $1, updated = $2
			WHERE status = 'enabled' AND failing_since < $3 RETURNING id`, reason, ts(s.now()), ts(cutoff))
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(ids) == 0 {
			return err
		}
		if err := recordDisabledFailing(ctx, tx, ids, reason, s.now()); err != nil { // operational.go
			return err
		}
		return setPaused(ctx, tx, ids, true)
	})
	if err != nil {
		return nil, fmt.Errorf("disabling failing endpoints: %w", err)
	}
	sort.Strings(ids)
	return ids, nil
}
