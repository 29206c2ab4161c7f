package sqlcore

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// The operational events each store records in its own completion and
// auto-disable transactions (that SQL differs with their designs) wait in
// operational_events until a node publishes them; reading and forgetting
// them is the same SQL on both.

// CircuitEvent is the operational event of one circuit transition
// (hookline.BreakerRule.Apply), which each store's CompleteTasks records
// with RecordCircuitEvent in the transaction that writes the circuit.
type CircuitEvent struct {
	Transition string // a hookline.Transition… value
	// The endpoint as the transaction read it (its row is locked or, in
	// SQLite, under the one writer).
	EndpointID, URL, Description, Tenant string
	// Attempt is the attempt that made the transition; its Error must be
	// storable by the database (PostgreSQL's text refuses NUL).
	Attempt     hookline.Attempt
	NextProbeAt time.Time // of the circuit just opened; zero when closed
}

// Type is the operational event's type: circuit_opened for an opening and
// for a failed probe's reopening (each a change to open, announced once),
// circuit_closed for a closing.
func (c CircuitEvent) Type() string {
	if c.Transition == hookline.TransitionClosed {
		return hookline.OpCircuitClosed
	}
	return hookline.OpCircuitOpened
}

// Reason is the event's reason, which tells an opening from a failed
// probe's reopening: a subscriber that wants to hear of an outage once
// skips the reopenings (every cool-down, up to 10 minutes apart, while
// the endpoint stays down).
func (c CircuitEvent) Reason() string {
	switch c.Transition {
	case hookline.TransitionReopened:
		return hookline.CircuitReasonProbeFailed
	case hookline.TransitionClosed:
		return hookline.CircuitReasonSucceeded
	}
	return hookline.CircuitReasonFailures
}

// RecordCircuitEvent is the statement, in d's placeholders, and its
// arguments that record ev at now. It is the same SQL on both stores;
// each runs it in its own completion transaction (SQLite's *sql.Tx,
// PostgreSQL's batch), so it is returned rather than run. A circuit's
// event is never quiet (hookline.OperationalEvent): it reports the
// endpoint, not a delivery. An endpoint subscribed to hookline.* whose
// own circuit opens does hear of it, and of each failed probe after:
// one event a cool-down, which its open circuit holds like the rest of
// its backlog.
func (d Dialect) RecordCircuitEvent(ev CircuitEvent, now time.Time) (string, []any) {
	var probeMS int64
	if !ev.NextProbeAt.IsZero() {
		probeMS = ev.NextProbeAt.UnixMilli()
	}
	a := ev.Attempt
	return d.Bind(`INSERT INTO operational_events (type, endpoint_id, endpoint_url, endpoint_description, tenant,
			event_id, has_attempt, attempt_status, attempt_error, attempt_error_kind, reason, created, next_probe_at_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), []any{
			ev.Type(), ev.EndpointID, ev.URL, ev.Description, ev.Tenant,
			a.EventID, true, a.ResponseStatus, a.Error, a.ErrorKind, ev.Reason(), d.Time(now), probeMS}
}

// OperationalEvents returns up to limit recorded operational events,
// oldest first. It reads through Config.ReadCommitted: the events are
// written by committed transactions only.
func (s *Shared) OperationalEvents(ctx context.Context, limit int) ([]*hookline.OperationalEvent, error) {
	read := s.cfg.ReadCommitted
	if read == nil {
		read = s.cfg.Read
	}
	rows, err := read.Query(ctx, s.cfg.Dialect.Bind(`SELECT seq, key, type, endpoint_id, endpoint_url, endpoint_description,
			tenant, event_id, has_attempt, attempt_status, attempt_error, attempt_error_kind, reason, next_probe_at_ms
		FROM operational_events ORDER BY seq LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("listing operational events: %w", err)
	}
	out, err := Collect(rows, func(row Rows) (*hookline.OperationalEvent, error) {
		var (
			o          hookline.OperationalEvent
			a          hookline.OperationalAttempt
			hasAttempt bool
			probeMS    int64
		)
		if err := row.Scan(&o.Seq, &o.Key, &o.Type, &o.EndpointID, &o.EndpointURL, &o.EndpointDescription,
			&o.Tenant, &o.EventID, &hasAttempt, &a.Status, &a.Error, &a.ErrorKind, &o.Reason, &probeMS); err != nil {
			return nil, err
		}
		if probeMS != 0 {
			o.NextProbeAt = time.UnixMilli(probeMS)
		}
		if hasAttempt {
			o.Attempt = &a
		}
		return &o, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing operational events: %w", err)
	}
	return out, nil
}

// DeleteOperationalEvents forgets published operational events, in one
// write. Seqs already deleted (by another node) are ignored.
func (s *Shared) DeleteOperationalEvents(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	err := s.cfg.Write(ctx, func(ctx context.Context, tx Execer) error {
		// One statement per event: a round publishes at most a hundred,
		// and a bound list would need a dialect for integers.
		for _, seq := range seqs {
			if _, err := s.exec(ctx, tx, `DELETE FROM operational_events WHERE seq = ?`, seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deleting operational events: %w", err)
	}
	return nil
}
