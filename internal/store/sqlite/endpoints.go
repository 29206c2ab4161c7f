package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlcore"
)

const endpointColumns = `id, url, enabled_events, description, metadata, tenant, status, disabled_reason,
	signature_scheme, secret, previous_secret, previous_secret_expires, failing_since, created, updated,
	filter, headers, retry_schedule, max_concurrency, timeout_ms, ordering, rate_per_second, rate_burst, breaker_failures`

// endpointColumns and the circuit, which only CompleteTasks writes.
const endpointSelect = endpointColumns + `, circuit_state, consecutive_failures, circuit_opened_at,
	circuit_next_probe_at, circuit_cooldown_ms`

type scanner interface{ Scan(dest ...any) error }

// scanEndpoint reads one endpoint row, its secrets opened.
func (s *Store) scanEndpoint(sc scanner) (*hookline.Endpoint, error) {
	var (
		e                              hookline.Endpoint
		events, meta                   string
		prevExp, failing, created, upd int64
		filter, headers, schedule      string
		timeoutMS                      int64
		ratePerSecond                  float64
		rateBurst                      int
		opened, probe, coolDown        int64
	)
	if err := sc.Scan(&e.ID, &e.URL, &events, &e.Description, &meta, &e.Tenant, &e.Status, &e.DisabledReason,
		&e.SignatureScheme, &e.Secret, &e.PreviousSecret, &prevExp, &failing, &created, &upd,
		&filter, &headers, &schedule, &e.MaxConcurrency, &timeoutMS, &e.Ordering, &ratePerSecond, &rateBurst, &e.BreakerFailures,
		&e.Circuit.State, &e.Circuit.ConsecutiveFailures, &opened, &probe, &coolDown); err != nil {
		return nil, err
	}
	e.Timeout = time.Duration(timeoutMS) * time.Millisecond
	if ratePerSecond > 0 {
		e.RateLimit = &hookline.RateLimit{PerSecond: ratePerSecond, Burst: rateBurst}
	}
	e.Circuit.OpenedAt, e.Circuit.NextProbeAt = fromMS(opened), fromMS(probe)
	e.Circuit.CoolDown = time.Duration(coolDown) * time.Millisecond
	if err := decodeEndpointOptions(&e, filter, headers, schedule); err != nil {
		return nil, err
	}
	sqlcore.OpenEndpoint(s.seal, &e)
	if err := json.Unmarshal([]byte(events), &e.EnabledEvents); err != nil {
		return nil, fmt.Errorf("decoding enabled_events of %s: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(meta), &e.Metadata); err != nil {
		return nil, fmt.Errorf("decoding metadata of %s: %w", e.ID, err)
	}
	e.PreviousSecretExpires = fromMS(prevExp)
	e.FailingSince = fromMS(failing)
	e.Created = fromMS(created)
	e.Updated = fromMS(upd)
	return &e, nil
}

// decodeEndpointOptions reads the filter, headers and retry_schedule columns
// into e; scanEndpoint opens the header values.
func decodeEndpointOptions(e *hookline.Endpoint, filter, headers, schedule string) error {
	if filter != "" {
		f, err := hookline.ParseFilter([]byte(filter), hookline.EventFilterFields)
		if err != nil {
			return fmt.Errorf("decoding filter of %s: %w", e.ID, err)
		}
		e.Filter = f
	}
	if err := json.Unmarshal([]byte(headers), &e.Headers); err != nil {
		return fmt.Errorf("decoding headers of %s: %w", e.ID, err)
	}
	if schedule != "" {
		var msList []int64
		if err := json.Unmarshal([]byte(schedule), &msList); err != nil {
			return fmt.Errorf("decoding retry_schedule of %s: %w", e.ID, err)
		}
		e.RetrySchedule = make([]time.Duration, len(msList))
		for i, v := range msList {
			e.RetrySchedule[i] = time.Duration(v) * time.Millisecond
		}
	}
	return nil
}

// encodeEndpointOptions is the inverse of decodeEndpointOptions, given
// the header values sealed (sqlcore.SealEndpoint).
func encodeEndpointOptions(e *hookline.Endpoint, sealedHeaders any) (filter string, headers any, schedule string, err error) {
	filter = string(e.Filter.JSON())
	if sealedHeaders != nil { // nil: the column keeps what it holds (sqlcore.SealEndpoint)
		b, err := json.Marshal(map[string]string(sealedHeaders.(hookline.Headers)))
		if err != nil {
			return "", nil, "", fmt.Errorf("encoding headers: %w", err)
		}
		headers = string(b)
	}
	if e.RetrySchedule != nil {
		msList := make([]int64, len(e.RetrySchedule))
		for i, d := range e.RetrySchedule {
			msList[i] = d.Milliseconds()
		}
		c, err := json.Marshal(msList)
		if err != nil {
			return "", nil, "", fmt.Errorf("encoding retry_schedule: %w", err)
		}
		schedule = string(c)
	}
	return filter, headers, schedule, nil
}

// endpointJSON returns e's enabled_events and metadata columns.
func endpointJSON(e *hookline.Endpoint) (events, meta string, err error) {
	ev := e.EnabledEvents
	if ev == nil {
		ev = []string{}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return "", "", fmt.Errorf("encoding enabled_events: %w", err)
	}
	m := e.Metadata
	if m == nil {
		m = map[string]string{}
	}
	c, err := json.Marshal(m)
	if err != nil {
		return "", "", fmt.Errorf("encoding metadata: %w", err)
	}
	return string(b), string(c), nil
}

// CreateEndpoint inserts e. Returns ECONFLICT if its id is taken.
func (s *Store) CreateEndpoint(ctx context.Context, e *hookline.Endpoint) error {
	events, meta, err := endpointJSON(e)
	if err != nil {
		return fmt.Errorf("creating endpoint: %w", err)
	}
	sealed, err := sqlcore.SealEndpoint(s.seal, e)
	if err != nil {
		return fmt.Errorf("creating endpoint: %w", err)
	}
	filter, headers, schedule, err := encodeEndpointOptions(e, sealed.Headers)
	if err != nil {
		return fmt.Errorf("creating endpoint: %w", err)
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO endpoints (`+endpointColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.URL, events, e.Description, meta, e.Tenant, e.Status, e.DisabledReason,
			e.SignatureScheme, sealed.Secret, sealed.PreviousSecret, ms(e.PreviousSecretExpires), ms(e.FailingSince),
			ms(e.Created), ms(e.Updated), filter, headers, schedule, e.MaxConcurrency, e.Timeout.Milliseconds(),
			e.Ordering, ratePerSecond(e), rateBurst(e), e.BreakerFailures)
		s.dropEndpointCache()
		return err
	})
	if err != nil {
		if hookline.ErrorCode(err) == hookline.ECONFLICT {
			return hookline.Errorf(hookline.ECONFLICT, "endpoint %q already exists", e.ID)
		}
		return fmt.Errorf("creating endpoint: %w", err)
	}
	return nil
}

// Endpoint returns the endpoint with that id, or ENOTFOUND.
func (s *Store) Endpoint(ctx context.Context, id string) (*hookline.Endpoint, error) {
	e, err := s.scanEndpoint(s.r.QueryRowContext(ctx, `SELECT `+endpointSelect+` FROM endpoints WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.NotFound("endpoint", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading endpoint: %w", err)
	}
	return e, nil
}

// ListEndpoints returns one page of endpoints, newest first.
func (s *Store) ListEndpoints(ctx context.Context, f hookline.EndpointFilter) ([]*hookline.Endpoint, bool, error) {
	q := `SELECT ` + endpointSelect + ` FROM endpoints WHERE 1`
	var args []any
	if f.Tenant != "" {
		q += ` AND tenant = ?`
		args = append(args, f.Tenant)
	}
	out, more, err := listPage(ctx, s.r, q, args, f.Page, s.scanEndpoint)
	if err != nil {
		return nil, false, fmt.Errorf("listing endpoints: %w", err)
	}
	return out, more, nil
}

// UpdateEndpoint writes every field of e but ID and Created.
func (s *Store) UpdateEndpoint(ctx context.Context, e *hookline.Endpoint) error {
	events, meta, err := endpointJSON(e)
	if err != nil {
		return fmt.Errorf("updating endpoint: %w", err)
	}
	sealed, err := sqlcore.SealEndpoint(s.seal, e)
	if err != nil {
		return fmt.Errorf("updating endpoint: %w", err)
	}
	filter, headers, schedule, err := encodeEndpointOptions(e, sealed.Headers)
	if err != nil {
		return fmt.Errorf("updating endpoint: %w", err)
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE endpoints SET url = ?, enabled_events = ?, description = ?, metadata = ?,
			tenant = ?, status = ?, disabled_reason = ?, signature_scheme = ?, secret = COALESCE(?, secret),
			previous_secret = COALESCE(?, previous_secret), previous_secret_expires = ?, failing_since = ?, updated = ?,
			filter = ?, headers = COALESCE(?, headers), retry_schedule = ?,
			max_concurrency = ?, timeout_ms = ?, ordering = ?, rate_per_second = ?, rate_burst = ?, breaker_failures = ?
			WHERE id = ?`,
			e.URL, events, e.Description, meta, e.Tenant, e.Status, e.DisabledReason, e.SignatureScheme,
			sealed.Secret, sealed.PreviousSecret, ms(e.PreviousSecretExpires), ms(e.FailingSince), ms(e.Updated),
			filter, headers, schedule, e.MaxConcurrency, e.Timeout.Milliseconds(), e.Ordering, ratePerSecond(e), rateBurst(e), e.BreakerFailures, e.ID)
		if err != nil {
			return err
		}
		s.dropEndpointCache()
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return hookline.NotFound("endpoint", e.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("updating endpoint: %w", err)
	}
	return nil
}

// DeleteEndpoint removes the endpoint and cancels its pending deliveries.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	now := ms(s.now())
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM endpoints WHERE id = ?`, id)
		if err != nil {
			return err
		}
		s.dropEndpointCache()
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return hookline.NotFound("endpoint", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM endpoint_buckets WHERE endpoint_id = ?`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'canceled', lease_owner = '', lease_expires = 0,
			next_attempt_at = 0, updated = ? WHERE endpoint_id = ? AND status = 'pending'`, now, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting endpoint: %w", err)
	}
	s.forgetBucket(id) // pace.go
	return nil
}

// DisableFailingEndpoints disables enabled endpoints failing since before
// cutoff and returns their ids.
func (s *Store) DisableFailingEndpoints(ctx context.Context, cutoff time.Time, reason string) ([]string, error) {
	var ids []string
	now := ms(s.now())
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE endpoints SET status = 'disabled', disabled_reason = ?, updated = ?
			WHERE status = 'enabled' AND failing_since <> 0 AND failing_since < ? RETURNING id`, reason, now, ms(cutoff))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for _, id := range ids {
			if err := recordDisabledFailing(ctx, tx, id, reason, now); err != nil {
				return err
			}
		}
		if len(ids) > 0 {
			s.dropEndpointCache()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("disabling failing endpoints: %w", err)
	}
	sort.Strings(ids)
	return ids, nil
}

// ratePerSecond and rateBurst are the rate_per_second and rate_burst
// columns of e (0 without a rate limit).
func ratePerSecond(e *hookline.Endpoint) float64 {
	if e.RateLimit == nil {
		return 0
	}
	return e.RateLimit.PerSecond
}

func rateBurst(e *hookline.Endpoint) int {
	if e.RateLimit == nil {
		return 0
	}
	return e.RateLimit.Burst
}
