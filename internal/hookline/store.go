package hookline

import (
	"context"
	"time"
)

// Store is Hookline's storage. Every method is safe for concurrent use.
// Methods return *Error values with ENOTFOUND, ECONFLICT or EINVALID codes for
// the conditions their comments name, and wrapped driver errors otherwise.
//
// Behaviour shared by all adapters is pinned by the conformance suite in
// internal/store/storetest.
type Store interface {
	// CreateEndpoint inserts e (ID, Created and Secret already set).
	// Returns ECONFLICT if an endpoint with that ID exists.
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	// Endpoint returns the endpoint with that id, or ENOTFOUND.
	Endpoint(ctx context.Context, id string) (*Endpoint, error)
	// ListEndpoints returns one page of endpoints, newest first, and whether
	// more follow.
	ListEndpoints(ctx context.Context, f EndpointFilter) ([]*Endpoint, bool, error)
	// UpdateEndpoint writes every field of e but ID and Created.
	// Returns ENOTFOUND if there is no such endpoint.
	UpdateEndpoint(ctx context.Context, e *Endpoint) error
	// DeleteEndpoint removes the endpoint and cancels its pending deliveries;
	// attempts already made stay on record. Returns ENOTFOUND.
	DeleteEndpoint(ctx context.Context, id string) error

	// PublishEvents stores events and fans each out, in one transaction, to
	// every enabled endpoint whose EnabledEvents match its type and whose
	// Tenant is "" or the event's tenant: one pending delivery each, due at
	// the event's Created time.
	//
	// An event whose IdempotencyKey was used by an event stored less than
	// opts.IdempotencyWindow ago is not stored: its result holds the
	// original event with Duplicate set, and no tasks.
	//
	// With opts.LeaseOwner set, the new deliveries are created already claimed
	// by that owner until opts.LeaseExpires and returned as tasks, so the
	// publishing node can make the first attempts without a claim round trip.
	//
	// Once it returns nil, the events and their deliveries are durable: a
	// crash of the process, or of the machine where the store syncs (SQLite
	// with synchronous=FULL, the default), loses none of them
	// (storetest.RunDurability).
	PublishEvents(ctx context.Context, events []*Event, opts PublishOptions) ([]Published, error)
	// Event returns the event with that id, or ENOTFOUND.
	Event(ctx context.Context, id string) (*Event, error)
	// ListEvents returns one page of events, newest first.
	ListEvents(ctx context.Context, f EventFilter) ([]*Event, bool, error)
	// Deliveries returns the deliveries of one event, oldest first.
	Deliveries(ctx context.Context, eventID string) ([]*Delivery, error)

	// ClaimTasks leases to req.Owner up to req.Limit pending deliveries that
	// are due at req.Now, belong to enabled endpoints (or connections) and
	// are not leased to anyone (or whose lease has expired), fairly (see
	// ClaimRequest): no endpoint's deliveries beyond its room under its
	// cap, counting req.Held and the live leases of other owners; endpoints
	// round robin, oldest due first within each. Each is leased until
	// req.Now plus req.EndpointLease of its endpoint. No delivery is leased
	// to two owners at once. A FIFO endpoint gets its oldest pending
	// delivery (publish order), only when it is due and none of the
	// endpoint's is leased; a paced one (PaceRoom) no more than its bucket
	// allows, which the claim then takes from, atomically with the leases
	// across every node sharing the store. An endpoint whose circuit is
	// open gets no room before its NextProbeAt and one delivery, the probe,
	// after it (ClaimRequest.EndpointRoom).
	ClaimTasks(ctx context.Context, req ClaimRequest) ([]*Task, error)
	// HoldEndpoint has claims lease nothing of endpoint id before until (a
	// receiver's 429 with Retry-After), across every node sharing the
	// store; a later until extends the hold, an earlier one is ignored.
	HoldEndpoint(ctx context.Context, id string, until time.Time) error
	// EndpointHold returns the latest until HoldEndpoint has set for
	// endpoint id, past or not (the caller compares it with its clock);
	// zero when none was set or there is no such endpoint.
	EndpointHold(ctx context.Context, id string) (time.Time, error)
	// CompleteTasks records attempts and their deliveries' new state in one
	// transaction. Each attempt is always recorded; a delivery's state is
	// updated and its lease cleared only while owner still holds its lease.
	// A success clears its endpoint's FailingSince; a failure sets it when
	// unset. A completion with DisableEndpoint disables the endpoint.
	// In the same transaction it records the operational events of what it
	// changed (OperationalStore): delivery.failing when an endpoint's
	// FailingSince becomes set, delivery.recovered when it is cleared,
	// delivery.exhausted for a delivery it marks failed whose retries ran
	// out (not a 410 Gone), endpoint.disabled when a 410 Gone disables an
	// enabled endpoint, endpoint.circuit_opened and endpoint.circuit_closed
	// (after those) for each transition an attempt makes: opened and
	// reopened (a failed probe) record circuit_opened, closed records
	// circuit_closed; never one without its transition. Changes made
	// by attempts of operational events record no delivery.* events (see
	// OperationalEvent).
	//
	// Each attempt moves its endpoint's circuit by BreakerRule.Apply, in
	// the same transaction, serialized with other owners' completions so
	// that each transition is made once; a completion's Breaker receives
	// the circuit and the transition it made.
	//
	// Once it returns nil, the attempts and the deliveries' new state are
	// durable, as for PublishEvents: a crash afterwards neither loses an
	// attempt nor makes its delivery due again, so the only deliveries a
	// crash repeats are those whose completions were in flight.
	CompleteTasks(ctx context.Context, owner string, cs []Completion) error
	// ReleaseTasks gives leased deliveries back without an attempt, due at
	// at. Deliveries not leased to owner are left alone.
	ReleaseTasks(ctx context.Context, owner string, deliveryIDs []string, at time.Time) error
	// ReleaseOwner gives back every delivery leased to owner, due at once.
	// Nodes call it when they stop.
	ReleaseOwner(ctx context.Context, owner string) error
	// Resend makes an event due again at now for one endpoint (endpointID
	// set) or for every endpoint currently subscribed to it: an existing
	// delivery becomes pending (keeping its attempt count), a missing one is
	// created. Returns ENOTFOUND for an unknown event or endpoint.
	Resend(ctx context.Context, eventID, endpointID string, now time.Time) ([]*Delivery, error)
	// DisableFailingEndpoints disables enabled endpoints whose FailingSince
	// is before cutoff, with the given reason, and returns their ids. It
	// records an endpoint.disabled operational event for each, naming the
	// endpoint's last attempt, in the same transaction.
	DisableFailingEndpoints(ctx context.Context, cutoff time.Time, reason string) ([]string, error)

	// ListAttempts returns one page of attempts, newest first.
	ListAttempts(ctx context.Context, f AttemptFilter) ([]*Attempt, bool, error)
	// Backlog counts pending deliveries (due, in flight or waiting for a
	// retry) and when the oldest of them started waiting.
	Backlog(ctx context.Context) (Backlog, error)

	// Setting returns a stored setting, or ENOTFOUND.
	Setting(ctx context.Context, name string) (string, error)
	// SetSetting stores a setting, replacing any earlier value.
	SetSetting(ctx context.Context, name, value string) error
	// InitSetting stores value under name unless name has a value already,
	// and returns the value in force: of callers racing to set it, on one
	// node or several, the first wins and all of them get its value.
	InitSetting(ctx context.Context, name, value string) (string, error)

	// Close releases the store's resources.
	Close() error

	StatsStore       // dashboard charts and per-endpoint health (stats.go)
	InboundStore     // sources, connections and captured requests (inbound.go)
	JobStore         // background jobs such as recover (jobs.go)
	SecretStore      // re-sealing secrets at rest (secrets.go)
	SessionStore     // dashboard sessions (sessions.go)
	OperationalStore // operational events waiting to be published (operational.go)
}

// BackgroundWriter is implemented by a store that writes some of what it
// acknowledged later, in the background (the SQLite journal's flusher).
// BackgroundHealth returns how many background writes have failed since
// the store opened and, while they keep failing, the latest error (nil
// once one succeeds again). Data stays safe meanwhile (the journal keeps
// it), but a store whose writes keep failing cannot go on for long.
type BackgroundWriter interface {
	BackgroundHealth() (failures int64, err error)
}

// PublishOptions tune Store.PublishEvents.
type PublishOptions struct {
	Now               time.Time
	IdempotencyWindow time.Duration
	LeaseOwner        string
	LeaseExpires      time.Time
	// Admit, when set with LeaseOwner, is asked for each new delivery
	// whether to lease it (the engine has room for its endpoint, whose
	// deliveries other owners hold others of); one not admitted is left
	// pending, for a claim. It must not block. A store shared by several
	// nodes counts others as ClaimTasks does, or leases nothing.
	Admit func(e *Endpoint, others int) bool
}

// Published is the result of publishing one event.
type Published struct {
	Event     *Event
	Duplicate bool    // the idempotency key was seen: Event is the original
	Tasks     []*Task // the new deliveries, when they were leased at publish
	// Deliveries is the number of deliveries the event fanned out to.
	Deliveries int
}

// Backlog describes the pending work.
type Backlog struct {
	Pending int64
	// Oldest is when the oldest pending delivery started waiting: when it
	// was created, or when a resend or recover made it pending again (it
	// had been delivered or given up meanwhile); zero when nothing is
	// pending. Not when it is next due: a delivery waiting for a retry or in
	// flight is due later, or was due at its lease, and would hide a
	// backlog of thousands that has waited for minutes. Deliveries to a
	// disabled endpoint stay pending and count, until the endpoint is
	// enabled again or deleted (which cancels them).
	Oldest time.Time
}

// OldestAge is how long the oldest pending delivery has waited at now (0
// when nothing is pending): the one definition of "oldest pending" that
// the dashboard's card and chart and /metrics share.
func (b Backlog) OldestAge(now time.Time) time.Duration {
	if b.Pending == 0 || b.Oldest.IsZero() || !now.After(b.Oldest) {
		return 0
	}
	return now.Sub(b.Oldest)
}

// Leases reports whether a new delivery to e, of whose deliveries other
// owners hold others, is leased at publish, asking Admit (once per
// delivery: it reserves room).
func (o *PublishOptions) Leases(e *Endpoint, others int) bool {
	// A FIFO or rate-limited endpoint's deliveries wait for a claim, which
	// takes them in order and at pace.
	return o.LeaseOwner != "" && !e.Paced() && (o.Admit == nil || o.Admit(e, others))
}
