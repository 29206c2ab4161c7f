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

// PublishEvents stores events and fans them out: it appends them to the
// journal, durably, and keeps them in memory until a flush writes them to
// SQLite (pending.go). The enabled endpoints are read once per call
// (usually from memory) and matched in Go.
func (s *Store) PublishEvents(ctx context.Context, events []*hookline.Event, opts hookline.PublishOptions) ([]hookline.Published, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if s.noJournal {
		return s.publishWithoutJournal(ctx, events, opts)
	}
	if s.pendingCount.Load() >= maxPending || s.pendingBytes.Load() >= maxPendingBytes {
		if err := s.sync(ctx); err != nil {
			return nil, fmt.Errorf("publishing events: %w", err)
		}
	}
	now := opts.Now
	if now.IsZero() {
		now = s.now()
	}
	nowMS := ms(now)
	windowMS := opts.IdempotencyWindow.Milliseconds()
	leaseExp := ms(opts.LeaseExpires)
	var held map[string]int
	if opts.LeaseOwner != "" {
		s.noteLeaseOwner(opts.LeaseOwner)
		held = s.heldEndpoints(now)
	}
	out := make([]hookline.Published, len(events))

	// jmu makes the idempotency checks and the append one step; the fsync
	// follows outside it, shared with concurrent publishes.
	s.jmu.Lock()
	locked := true
	defer func() {
		if locked {
			s.jmu.Unlock()
		}
	}()
	endpoints, _, err := s.enabledEndpoints(ctx, s.r.db)
	if err != nil {
		return nil, fmt.Errorf("publishing events: %w", err)
	}
	var accepted []*pendingEvent
	inBatch := map[string]*pendingEvent{} // keyed events of this call
	for i, ev := range events {
		if ev.IdempotencyKey != "" {
			orig, err := s.idempotent(ctx, ev.IdempotencyKey, inBatch, nowMS-windowMS, windowMS > 0)
			if err != nil {
				return nil, fmt.Errorf("publishing events: %w", err)
			}
			if orig != nil {
				out[i] = hookline.Published{Event: orig, Duplicate: true}
				continue
			}
		}
		payload := ev.Payload
		if payload == nil {
			payload = []byte{}
		}
		pe := &pendingEvent{
			id: ev.ID, typ: ev.Type, created: ms(ev.Created), tenant: ev.Tenant, payload: payload,
			idemKey: ev.IdempotencyKey, published: nowMS, event: ev,
		}
		if ev.IdempotencyKey != "" {
			inBatch[ev.IdempotencyKey] = pe
		}
		p := hookline.Published{Event: ev}
		due := ms(ev.Created)
		doc := &hookline.EventDocument{Event: ev}
		for _, ep := range endpoints {
			if !subscribed(ep, doc) {
				continue
			}
			d := &pendingDelivery{id: hookline.NewID("dlv"), eventID: ev.ID, endpointID: ep.ID, due: due, ready: due, created: nowMS, ev: pe}
			if opts.Leases(ep, held[ep.ID]) {
				d.owner, d.leaseExpires, d.ready = opts.LeaseOwner, leaseExp, max(due, leaseExp)
				cp := *ep // a fresh struct per call; slices and maps are shared read-only
				p.Tasks = append(p.Tasks, &hookline.Task{
					DeliveryID: d.id, Attempt: 1, Event: ev, Endpoint: &cp, LeaseExpires: opts.LeaseExpires,
				})
			}
			pe.deliveries = append(pe.deliveries, d)
			p.Deliveries++
		}
		accepted = append(accepted, pe)
		out[i] = p
	}
	if len(accepted) == 0 {
		return out, nil
	}
	durable, err := s.appendRecord(encodeRecord(accepted))
	if err != nil {
		return nil, fmt.Errorf("publishing events: %w", err)
	}
	// Pending before durable: a flush may write them to SQLite first, which
	// is as good. Their deliveries wait for the caller, who has not seen
	// them yet.
	s.bmu.Lock()
	s.pend.accept(accepted, s.pend.current)
	n := int64(len(s.pend.events))
	s.pendingCount.Store(n)
	s.pendingBytes.Store(s.pend.bytes)
	s.bmu.Unlock()
	s.jmu.Unlock()
	locked = false
	if err := durable(); err != nil {
		return nil, fmt.Errorf("publishing events: %w", err)
	}
	if n >= flushAt {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	return out, nil
}

// subscribed reports whether ep gets a delivery of doc's event.
func subscribed(ep *hookline.Endpoint, doc *hookline.EventDocument) bool {
	if only := doc.Event.OnlyEndpoint; only != "" {
		return ep.ID == only // a test event: that endpoint alone, whatever it subscribes to
	}
	return ep.Accepts(doc)
}

// idempotent returns the event published with key within the window (since
// minMS), if any: from this call, from the journal, or from SQLite. The
// caller holds jmu.
func (s *Store) idempotent(ctx context.Context, key string, inBatch map[string]*pendingEvent, minMS int64, window bool) (*hookline.Event, error) {
	if !window {
		return nil, nil
	}
	pe := inBatch[key]
	if pe == nil {
		s.bmu.Lock()
		pe = s.pend.byKey[key]
		s.bmu.Unlock()
	}
	if pe != nil {
		if pe.published <= minMS {
			return nil, nil
		}
		if pe.event != nil {
			return pe.event, nil
		}
		return &hookline.Event{ID: pe.id, Type: pe.typ, Created: fromMS(pe.created), Tenant: pe.tenant, Payload: pe.payload, IdempotencyKey: pe.idemKey}, nil
	}
	// Flushes commit before they forget an event, so a key missing from
	// memory is in SQLite if anywhere.
	var origID string
	var published int64
	err := s.r.db.QueryRowContext(ctx, `SELECT event_id, published FROM idempotency_keys WHERE key = ?`, key).Scan(&origID, &published)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading idempotency key: %w", err)
	case published <= minMS:
		return nil, nil
	}
	orig, err := scanEvent(s.r.db.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, origID))
	if err != nil {
		return nil, fmt.Errorf("reading event %s of idempotency key: %w", origID, err)
	}
	return orig, nil
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
		q += ` AND tenant = ? AND tenant <> ''` // the condition of the partial index events_tenant
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

// publishWithoutJournal is PublishEvents with Options.NoJournal: events
// and deliveries are written in one write transaction, which the group
// commit shares with every write queued beside it.
func (s *Store) publishWithoutJournal(ctx context.Context, events []*hookline.Event, opts hookline.PublishOptions) ([]hookline.Published, error) {
	now := opts.Now
	if now.IsZero() {
		now = s.now()
	}
	nowMS := ms(now)
	windowMS := opts.IdempotencyWindow.Milliseconds()
	leaseExp := ms(opts.LeaseExpires)
	var held map[string]int
	if opts.LeaseOwner != "" {
		s.noteLeaseOwner(opts.LeaseOwner)
		held = s.heldEndpoints(now)
	}
	out := make([]hookline.Published, len(events))
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		endpoints, _, err := s.enabledEndpoints(ctx, tx)
		if err != nil {
			return err
		}
		var eventRows, deliveryRows [][]any
		inBatch := map[string]*hookline.Event{} // events of this call, by id
		putKey := tx.StmtContext(ctx, s.stmts.putIdemKey)
		for i, ev := range events {
			if ev.IdempotencyKey != "" {
				var origID string
				var published int64
				err := tx.QueryRowContext(ctx, `SELECT event_id, published FROM idempotency_keys WHERE key = ?`, ev.IdempotencyKey).Scan(&origID, &published)
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
			doc := &hookline.EventDocument{Event: ev}
			for _, ep := range endpoints {
				if !subscribed(ep, doc) {
					continue
				}
				id := hookline.NewID("dlv")
				owner, exp, ready := "", int64(0), due
				if opts.Leases(ep, held[ep.ID]) {
					owner, exp, ready = opts.LeaseOwner, leaseExp, max(due, leaseExp)
					cp := *ep // a fresh struct per call; slices and maps are shared read-only
					p.Tasks = append(p.Tasks, &hookline.Task{DeliveryID: id, Attempt: 1, Event: ev, Endpoint: &cp, LeaseExpires: opts.LeaseExpires})
				}
				deliveryRows = append(deliveryRows, []any{id, ev.ID, ep.ID, hookline.DeliveryPending, 0, due, owner, exp, ready, nowMS, nowMS})
				p.Deliveries++
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
