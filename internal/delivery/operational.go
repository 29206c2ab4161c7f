package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// OperationalConfig configures an Operational. Zero fields take the
// defaults noted.
type OperationalConfig struct {
	Store     hookline.Store
	Publisher *Publisher
	// Poll is how often the store is looked at for recorded operational
	// events (1 s).
	Poll time.Duration
	// Batch is how many recorded events one round publishes at most (100).
	Batch  int
	Logger *slog.Logger
}

// Operational publishes Hookline's operational events (hookline.…), the one
// place that builds them: delivered, signed and retried like any other
// event, to the endpoints that subscribe to them explicitly, under the
// tenant of the endpoint concerned. Their data is
//
//	{"endpoint": {"id", "url", "description"}, "tenant",
//	 "event_id", "attempt": {"status", "error", "error_kind"},
//	 "reason", "next_probe_at"}
//
// where event_id, attempt, reason and next_probe_at appear when they apply.
//
// Changes decided inside a store transaction (an endpoint failing or
// recovering, a delivery exhausted, an auto-disable, a circuit opening or
// closing) are recorded with the change (hookline.OperationalEvent), so a
// crash between the commit and the publish loses none; Operational's loop
// publishes what was recorded, under the record's random Idempotency-Key,
// so that nodes sharing a database publish each one once however many of
// them see it. A status set through the API is published at once by
// EndpointStatusChanged, by the node that set it.
type Operational struct {
	cfg      OperationalConfig
	kick     chan struct{}
	stopping chan struct{}
	done     sync.WaitGroup
	start    sync.Once
	stop     sync.Once
}

// NewOperational returns an Operational; its loop runs from Start.
func NewOperational(cfg OperationalConfig) *Operational {
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Operational{cfg: cfg, kick: make(chan struct{}, 1), stopping: make(chan struct{})}
}

// Start starts the loop that publishes recorded operational events.
func (o *Operational) Start() {
	o.start.Do(func() {
		o.done.Add(1)
		go o.loop()
	})
}

// Stop stops the loop, letting a round in progress finish. Call it before
// stopping the publisher. It is safe to call more than once.
func (o *Operational) Stop() {
	o.stop.Do(func() { close(o.stopping) })
	o.done.Wait()
}

// Kick makes the loop look for recorded events at once.
func (o *Operational) Kick() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

func (o *Operational) loop() {
	defer o.done.Done()
	tick := time.NewTicker(o.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-o.stopping:
			return
		case <-tick.C:
		case <-o.kick:
		}
		for o.publishRecorded(context.Background()) == o.cfg.Batch {
			// A full round: more may wait.
			select {
			case <-o.stopping:
				return
			default:
			}
		}
	}
}

// publishRecorded publishes one round of recorded operational events and
// forgets those published. It returns how many it took from the store.
func (o *Operational) publishRecorded(ctx context.Context) int {
	evs, err := o.cfg.Store.OperationalEvents(ctx, o.cfg.Batch)
	if err != nil {
		o.cfg.Logger.Error("reading operational events", "err", err)
		return 0
	}
	var done []int64
	for _, ev := range evs {
		err := o.publish(ctx, ev, ev.Key)
		switch hookline.ErrorCode(err) {
		case "", hookline.EKEYREUSED:
			// Published, or found published by another node under the
			// record's key (a Duplicate, no error). EKEYREUSED would mean
			// another request took the key, which its randomness rules
			// out; retrying could not help either.
			done = append(done, ev.Seq)
			continue
		case hookline.EINVALID:
			// It can never be published; keeping it would block the rest.
			o.cfg.Logger.Error("dropping an operational event that cannot be published", "type", ev.Type, "endpoint", ev.EndpointID, "err", err)
			done = append(done, ev.Seq)
			continue
		}
		o.cfg.Logger.Warn("publishing operational events; retrying shortly", "type", ev.Type, "endpoint", ev.EndpointID, "err", err)
		break
	}
	if err := o.cfg.Store.DeleteOperationalEvents(ctx, done); err != nil {
		// They stay recorded and are published again under the same key,
		// which the idempotency window turns into no new event.
		o.cfg.Logger.Error("forgetting published operational events", "err", err)
	}
	if len(done) < len(evs) {
		return 0 // wait for the next tick rather than spin on a failing publish
	}
	return len(evs)
}

// EndpointStatusChanged publishes hookline.endpoint.disabled or
// hookline.endpoint.enabled for e, whose status was just set by hand (e
// as it is now). reason says how (disabled_reason for a disable, "enabled
// through the API" for an enable).
func (o *Operational) EndpointStatusChanged(ctx context.Context, e *hookline.Endpoint, reason string) error {
	typ := hookline.OpEndpointEnabled
	if e.Status == hookline.EndpointDisabled {
		typ = hookline.OpEndpointDisabled
	}
	return o.publish(ctx, o.about(typ, e, nil, reason), "")
}

// about builds the operational event typ about endpoint e as it is now.
func (o *Operational) about(typ string, e *hookline.Endpoint, last *hookline.Attempt, reason string) *hookline.OperationalEvent {
	ev := &hookline.OperationalEvent{Type: typ, EndpointID: e.ID, EndpointURL: e.URL, EndpointDescription: e.Description,
		Tenant: e.Tenant, Reason: reason}
	if last != nil {
		ev.EventID = last.EventID
		ev.Attempt = &hookline.OperationalAttempt{Status: last.ResponseStatus, Error: last.Error, ErrorKind: last.ErrorKind}
	}
	return ev
}

// operationalData is the data of an operational event.
type operationalData struct {
	Endpoint struct {
		ID          string `json:"id"`
		URL         string `json:"url"`
		Description string `json:"description"`
	} `json:"endpoint"`
	Tenant      string              `json:"tenant"`
	EventID     string              `json:"event_id,omitempty"`
	Attempt     *operationalAttempt `json:"attempt,omitempty"`
	Reason      string              `json:"reason,omitempty"`
	NextProbeAt int64               `json:"next_probe_at,omitempty"` // unix seconds
}

// operationalAttempt is the attempt an operational event names.
type operationalAttempt struct {
	Status    int    `json:"status"` // 0 when no answer came
	Error     string `json:"error,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`
}

// publish publishes ev under the tenant of its endpoint, with key as its
// Idempotency-Key ("" for none).
func (o *Operational) publish(ctx context.Context, ev *hookline.OperationalEvent, key string) error {
	var d operationalData
	d.Endpoint.ID, d.Endpoint.URL, d.Endpoint.Description = ev.EndpointID, ev.EndpointURL, ev.EndpointDescription
	d.Tenant, d.EventID, d.Reason = ev.Tenant, ev.EventID, ev.Reason
	if a := ev.Attempt; a != nil {
		d.Attempt = &operationalAttempt{a.Status, a.Error, a.ErrorKind}
	}
	if !ev.NextProbeAt.IsZero() {
		d.NextProbeAt = ev.NextProbeAt.Unix()
	}
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", ev.Type, err)
	}
	_, err = o.cfg.Publisher.Publish(ctx, PublishRequest{Type: ev.Type, Data: data, Tenant: ev.Tenant, IdempotencyKey: key, Operational: true})
	if err != nil {
		return fmt.Errorf("publishing %s: %w", ev.Type, err)
	}
	return nil
}
