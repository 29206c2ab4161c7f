package hookline

import (
	"context"
	"time"
)

// The operational events: Hookline's own events about the endpoints and
// deliveries it runs, published like any other event under
// OperationalPrefix. Only an explicit subscription ("hookline.*" or the
// exact type) receives them, and only endpoints of the tenant the endpoint
// concerned belongs to (or of no tenant).
const (
	// OpEndpointDisabled: the endpoint was disabled (through the API or the
	// dashboard, after failing for --disable-after, or by a 410 Gone).
	OpEndpointDisabled = "hookline.endpoint.disabled"
	// OpEndpointEnabled: the endpoint was enabled again.
	OpEndpointEnabled = "hookline.endpoint.enabled"
	// OpCircuitOpened: the endpoint's circuit breaker opened; its deliveries
	// wait for the cool-down. It is announced once per transition to open:
	// closed → open after the consecutive failures, and half_open → open
	// again when the probe fails (a state change back to open, with a new
	// next probe), never for the failures in between.
	OpCircuitOpened = "hookline.endpoint.circuit_opened"
	// OpCircuitClosed: a probe succeeded and the circuit closed again.
	OpCircuitClosed = "hookline.endpoint.circuit_closed"
	// OpDeliveryExhausted: a delivery's retries ran out; it failed for good.
	OpDeliveryExhausted = "hookline.delivery.exhausted"
	// OpDeliveryFailing: the endpoint's first failed attempt after a success.
	OpDeliveryFailing = "hookline.delivery.failing"
	// OpDeliveryRecovered: the endpoint's first success after failing.
	OpDeliveryRecovered = "hookline.delivery.recovered"
)

// The reason of a circuit's event (OperationalEvent.Reason): an opening
// after failures in a row, a failed probe's reopening, a closing (by the
// probe, or by an attempt in flight when the circuit opened that
// succeeded after).
const (
	CircuitReasonFailures    = "failed attempts in a row"
	CircuitReasonProbeFailed = "the probe failed"
	CircuitReasonSucceeded   = "an attempt succeeded"
)

// OperationalEvent is an operational event the store recorded in the
// transaction that made the change it reports (an endpoint starting to
// fail, recovering, being disabled; a delivery giving up), waiting to be
// published. Recording it there, rather than publishing after the commit,
// means each change is reported once however many nodes share the database
// and survives a crash between the commit and the publish.
//
// A delivery of an operational event never makes a delivery.* event (its
// failures still count toward the endpoint's health and auto-disable): an
// endpoint subscribed to hookline.* that fails would otherwise feed itself
// an endless stream of events about its own deliveries.
type OperationalEvent struct {
	Seq  int64  // the order of recording; what DeleteOperationalEvents takes
	Key  string // random; the Idempotency-Key it is published under, so two nodes publish it once
	Type string // one of the Op… types
	// The endpoint concerned as it was at the change.
	EndpointID          string
	EndpointURL         string
	EndpointDescription string
	Tenant              string // the endpoint's tenant: the event is published under it
	// EventID is the event whose delivery made the change; "" for none.
	EventID string
	// Attempt is the last attempt to the endpoint when the change was made;
	// nil when none is known.
	Attempt *OperationalAttempt
	// Reason is why the endpoint was disabled or enabled, or what moved
	// its circuit (CircuitReason…).
	Reason string
	// NextProbeAt is when the probe of a circuit just opened is due
	// (circuit_opened); zero otherwise.
	NextProbeAt time.Time
}

// OperationalAttempt is what an operational event says of an attempt.
type OperationalAttempt struct {
	Status    int    // the HTTP status; 0 when no answer came
	Error     string // "" on success
	ErrorKind string // one of the AttemptError… kinds; "" when the endpoint answered
}

// OperationalStore holds the operational events recorded and not yet
// published. Every store records them in the transactions of
// CompleteTasks (failing, recovered, exhausted, disabled by a 410 Gone,
// circuit_opened and circuit_closed with the circuit's transition) and
// DisableFailingEndpoints (disabled).
type OperationalStore interface {
	// OperationalEvents returns up to limit recorded operational events,
	// oldest first.
	OperationalEvents(ctx context.Context, limit int) ([]*OperationalEvent, error)
	// DeleteOperationalEvents forgets published operational events. Seqs
	// already deleted are ignored.
	DeleteOperationalEvents(ctx context.Context, seqs []int64) error
}
