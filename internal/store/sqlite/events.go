package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookline/hookline/internal/hookline"
)

const eventColumns = `id, type, created, tenant, payload, idempotency_key`

func scanEvent(sc scanner) (*hookline.Event, error) {
	var (
		e       hookline.Event
		created int64
	)
	if err := sc.Scan(&e.ID, &e.Type, &created, &e.Tenant, &e.Payload, &e.IdempotencyKey); err != nil {
		return nil, err
	}
	e.Created = fromMS(created)
	if e.Payload == nil {
		e.Payload = []byte{}
	}
	return &e, nil
}

// PublishEvents stores events and fans them out in one transaction. The
// enabled endpoints are read once per call (usually from memory) and matched
// in Go.
func (s *Store) PublishEvents(ctx context.Context, events []*hookline.Event, opts hookline.PublishOptions) ([]hookline.Published, error) {
	if len(events) == 0 {
		return nil, nil
	}
	now := opts.Now
	if now.IsZero() {
		now = s.now()
	}
	nowMS := ms(now)
	windowMS := opts.IdempotencyWindow.Milliseconds()
	leaseExp := ms(opts.LeaseExpires)
	out := make([]hookline.Published, len(events))

	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		endpoints, _, err := s.enabledEndpoints(ctx, tx)
		if err != nil {
			return err
		}
		var eventRows, deliveryRows [][]any
		inBatch := map[string]*hookline.Event{} // events of this call, inserted at the end
		getKey := tx.StmtContext(ctx, s.stmts.getIdemKey)
		putKey := tx.StmtContext(ctx, s.stmts.putIdemKey)

		for i, ev := range events {
			if ev.IdempotencyKey != "" {
				var origID string
				var published int64
				err := getKey.QueryRowContext(ctx, ev.IdempotencyKey).Scan(&origID, &published)
				switch {
				case err == nil && windowMS > 0 && published > nowMS-windowMS:
					orig, ok := inBatch[origID]
					if !ok {
						orig, err = scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, origID))
						if err != nil {
							return fmt.Errorf("reading event %s of idempotency key: %w", origID, err)
						}
					}
					out[i] = hookline.Published{Event: orig, Duplicate: true}
					continue
				case err != nil && !errors.Is(err, sql.ErrNoRows):
					return fmt.Errorf("reading idempotency key: %w", err)
				}
				if _, err := putKey.ExecContext(ctx, ev.IdempotencyKey, ev.ID, nowMS); err != nil {
					return fmt.Errorf("storing idempotency key: %w", err)
				}
			}
			payload := ev.Payload
			if payload == nil {
				payload = []byte{}
			}
			eventRows = append(eventRows, []any{ev.ID, ev.Type, ms(ev.Created), ev.Tenant, payload, ev.IdempotencyKey})
			inBatch[ev.ID] = ev
			p := hookline.Published{Event: ev}
			due := ms(ev.Created)
			for _, ep := range endpoints {
				if ev.OnlyEndpoint != "" {
					if ep.ID != ev.OnlyEndpoint { // a test event: that endpoint alone, whatever it subscribes to
						continue
					}
				} else if (ep.Tenant != "" && ep.Tenant != ev.Tenant) || !hookline.MatchEvent(ep.EnabledEvents, ev.Type) {
					continue
				}
				id := hookline.NewID("dlv")
				ready := due
				if opts.LeaseOwner != "" {
					ready = max(due, leaseExp)
				}
				var owner string
				var exp int64
				if opts.LeaseOwner != "" {
					owner, exp = opts.LeaseOwner, leaseExp
				}
				deliveryRows = append(deliveryRows, []any{id, ev.ID, ep.ID, due, owner, exp, ready, nowMS, nowMS})
				p.Deliveries++
				if opts.LeaseOwner != "" {
					cp := *ep // a fresh struct per call; slices and maps are shared read-only
					p.Tasks = append(p.Tasks, &hookline.Task{
						DeliveryID: id, Attempt: 1, Event: ev, Endpoint: &cp, LeaseExpires: opts.LeaseExpires,
					})
				}
			}
			out[i] = p
		}
		if err := s.insEvents.exec(ctx, tx, eventRows); err != nil {
			return fmt.Errorf("inserting events: %w", err)
		}
		if err := s.insDeliveries.exec(ctx, tx, deliveryRows); err != nil {
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
	e, err := scanEvent(s.r.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookline.NotFound("event", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading event: %w", err)
	}
	return e, nil
}

// ListEvents returns one page of events, newest first.
func (s *Store) ListEvents(ctx context.Context, f hookline.EventFilter) ([]*hookline.Event, bool, error) {
	q := `SELECT ` + eventColumns + ` FROM events WHERE 1`
	var args []any
	if f.Type != "" {
		q += ` AND type = ?`
		args = append(args, f.Type)
	}
	if f.Tenant != "" {
		q += ` AND tenant = ?`
		args = append(args, f.Tenant)
	}
	out, more, err := listPage(ctx, s.r, q, args, f.Page, scanEvent)
	if err != nil {
		return nil, false, fmt.Errorf("listing events: %w", err)
	}
	return out, more, nil
}

const deliveryColumns = `id, event_id, endpoint_id, status, attempts, next_attempt_at, created, updated`

func scanDelivery(sc scanner) (*hookline.Delivery, error) {
	var (
		d                  hookline.Delivery
		next, created, upd int64
	)
	if err := sc.Scan(&d.ID, &d.EventID, &d.EndpointID, &d.Status, &d.Attempts, &next, &created, &upd); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.Created, d.Updated = fromMS(next), fromMS(created), fromMS(upd)
	return &d, nil
}

// Deliveries returns the deliveries of one event, oldest first.
func (s *Store) Deliveries(ctx context.Context, eventID string) ([]*hookline.Delivery, error) {
	out, err := queryAll(ctx, s.r, `SELECT `+deliveryColumns+` FROM deliveries WHERE event_id = ? ORDER BY id`,
		[]any{eventID}, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("listing deliveries: %w", err)
	}
	return out, nil
}
