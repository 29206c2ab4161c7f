package app

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
)

// Publish validates and durably stores an event and its deliveries, and
// hands them to the engine (delivery.Publisher). An idempotency key seen
// within 24 hours returns the original event, Duplicate set.
func (a *App) Publish(ctx context.Context, req delivery.PublishRequest) (hookline.Published, error) {
	res, err := a.cfg.Publisher.Publish(ctx, req)
	if err == nil && !res.Duplicate && a.cfg.OnPublish != nil {
		a.cfg.OnPublish()
	}
	return res, err
}

// ListEvents returns a page of events, newest first; f.Type, when set, must
// be an event type.
func (a *App) ListEvents(ctx context.Context, f hookline.EventFilter) ([]*hookline.Event, bool, error) {
	if f.Type != "" && !hookline.ValidEventType(f.Type) {
		return nil, false, hookline.Invalid("type", "type %q is not a valid event type", f.Type)
	}
	return a.cfg.Store.ListEvents(ctx, f)
}

// Event returns the event id.
func (a *App) Event(ctx context.Context, id string) (*hookline.Event, error) {
	return a.cfg.Store.Event(ctx, id)
}

// EventAttempts returns a page of the attempts at delivering event id
// (f.EventID is set to it), ENOTFOUND when there is no such event.
func (a *App) EventAttempts(ctx context.Context, id string, f hookline.AttemptFilter) ([]*hookline.Attempt, bool, error) {
	if _, err := a.cfg.Store.Event(ctx, id); err != nil {
		return nil, false, err
	}
	f.EventID = id
	return a.cfg.Store.ListAttempts(ctx, f)
}

// EndpointAttempts returns a page of the attempts made to endpoint id,
// ENOTFOUND when there is no such endpoint.
func (a *App) EndpointAttempts(ctx context.Context, id string, f hookline.AttemptFilter) ([]*hookline.Attempt, bool, error) {
	if _, err := a.cfg.Store.Endpoint(ctx, id); err != nil {
		return nil, false, err
	}
	f.EndpointID = id
	return a.cfg.Store.ListAttempts(ctx, f)
}

// EventDeliveries returns event id's delivery to each endpoint, each
// pending one due when it will really be tried (heldUntil).
func (a *App) EventDeliveries(ctx context.Context, id string) ([]*hookline.Delivery, error) {
	if _, err := a.cfg.Store.Event(ctx, id); err != nil {
		return nil, err
	}
	ds, err := a.cfg.Store.Deliveries(ctx, id)
	if err != nil {
		return nil, err
	}
	return ds, a.heldUntil(ctx, ds)
}

// heldUntil moves the NextAttemptAt of each pending delivery in ds to when
// it will really be tried: not before its endpoint's open circuit lets a
// probe go (next_probe_at), nor before the hold a receiver's 429 put on
// the endpoint ends (held_until). The row keeps the time it became due,
// which a claim needs; a reader wants the time it goes, not one already
// past while it waits without spending retries. A rate limit's wait is
// not folded in: tokens refill continuously and every claim, on any
// node, takes from the same bucket, so when a delivery goes depends on
// how many of its endpoint's are ahead of it, not on a time the store
// keeps.
func (a *App) heldUntil(ctx context.Context, ds []*hookline.Delivery) error {
	until := map[string]time.Time{}
	for _, d := range ds {
		if d.Status != hookline.DeliveryPending {
			continue
		}
		u, ok := until[d.EndpointID]
		if !ok {
			var err error
			if u, err = a.endpointWait(ctx, d.EndpointID); err != nil {
				return err
			}
			until[d.EndpointID] = u
		}
		if u.After(d.NextAttemptAt) {
			d.NextAttemptAt = u
		}
	}
	return nil
}

// endpointWait is when endpoint id lets a delivery go at the earliest:
// the later of its open circuit's next probe and its 429's hold; zero
// when neither holds it (or it was deleted since the deliveries were
// read: nothing holds them).
func (a *App) endpointWait(ctx context.Context, id string) (time.Time, error) {
	e, err := a.cfg.Store.Endpoint(ctx, id)
	switch {
	case hookline.ErrorCode(err) == hookline.ENOTFOUND:
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("reading the circuit of endpoint %s: %w", id, err)
	}
	var wait time.Time
	if e.Circuit.Open() {
		wait = e.Circuit.NextProbeAt
	}
	hold, err := a.EndpointHold(ctx, id)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the hold of endpoint %s: %w", id, err)
	}
	if hold.After(wait) {
		wait = hold
	}
	return wait, nil
}

// Resend makes event id's deliveries due now (as far as an open circuit
// or a 429's hold lets them: heldUntil), to one endpoint or (with
// endpointID empty) to every endpoint subscribed, and wakes the engine.
func (a *App) Resend(ctx context.Context, id, endpointID string) ([]*hookline.Delivery, error) {
	ds, err := a.cfg.Store.Resend(ctx, id, endpointID, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	a.wake()
	// Due now, except where an open circuit or a 429 holds them. The
	// resend is made: a failure to read the holds is logged, not its error.
	if err := a.heldUntil(ctx, ds); err != nil {
		a.cfg.Logger.Error("showing resent deliveries", "event", id, "err", err)
	}
	return ds, nil
}
