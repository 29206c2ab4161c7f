package hookline

import "time"

// Circuit states. Only closed and open are stored: an open circuit whose
// NextProbeAt has come is half_open (CircuitAt), and a claim leases one
// delivery of it, the probe.
const (
	CircuitClosed   = "closed"
	CircuitOpen     = "open"
	CircuitHalfOpen = "half_open"
)

// Transitions a completion can make (BreakerCheck.Transition).
const (
	TransitionOpened   = "opened"   // closed → open: N consecutive failures
	TransitionReopened = "reopened" // half_open → open: the probe failed
	TransitionClosed   = "closed"   // open or half_open → closed: an attempt succeeded
)

// Bounds and defaults of the circuit breaker.
const (
	DefaultBreakerFailures = 10
	MaxBreakerFailures     = 10000
	DefaultCircuitCoolDown = 30 * time.Second
	MaxCircuitCoolDown     = 10 * time.Minute
)

// Circuit is an endpoint's circuit breaker, kept in its row and changed
// only by Store.CompleteTasks, in the transaction that records the
// attempts, so that nodes sharing a store agree on it.
type Circuit struct {
	State               string // CircuitClosed or CircuitOpen ("" reads as closed)
	ConsecutiveFailures int
	OpenedAt            time.Time // when it last opened; zero while closed
	NextProbeAt         time.Time // when the probe may go; zero while closed
	CoolDown            time.Duration
}

// Open reports whether c is open (or half_open).
func (c Circuit) Open() bool { return c.State == CircuitOpen }

// StateAt is the visible state at now: closed, open, or half_open once
// the cool-down is over.
func (c Circuit) StateAt(now time.Time) string {
	switch {
	case !c.Open():
		return CircuitClosed
	case now.Before(c.NextProbeAt):
		return CircuitOpen
	default:
		return CircuitHalfOpen
	}
}

// BreakerRule is the server's side of the breaker: the failures that
// open an endpoint's circuit without its own count, and the cool-downs.
type BreakerRule struct {
	Failures    int           // DefaultBreakerFailures when 0
	CoolDown    time.Duration // the first cool-down (DefaultCircuitCoolDown)
	MaxCoolDown time.Duration // the cap of the doubling (MaxCircuitCoolDown)
}

// FailuresOf is how many consecutive failures open e's circuit.
func (r BreakerRule) FailuresOf(e *Endpoint) int {
	switch {
	case e.BreakerFailures > 0:
		return e.BreakerFailures
	case r.Failures > 0:
		return r.Failures
	}
	return DefaultBreakerFailures
}

// Apply folds the outcome of attempt a into c (its clock is the
// attempt's: the circuit opens when the attempt that opened it ended), and returns the transition it made, if any. It is the
// breaker's one rule, for both stores:
//   - a success closes the circuit and clears the count, unless the
//     attempt was made before the circuit opened;
//   - a failure counts; the failures-th in a row opens a closed circuit
//     for the first cool-down;
//   - a failure of an attempt made at or after NextProbeAt (the probe)
//     reopens an open circuit for twice the last cool-down, up to the cap;
//     failures of attempts made before (in flight when it opened) only
//     count.
func (r BreakerRule) Apply(c *Circuit, failures int, a *Attempt) string {
	succeeded, attemptAt := a.Succeeded(), a.Created
	now := a.Created.Add(time.Duration(a.DurationMS) * time.Millisecond).Truncate(time.Millisecond)
	base, ceiling := r.CoolDown, r.MaxCoolDown
	if base <= 0 {
		base = DefaultCircuitCoolDown
	}
	if ceiling <= 0 {
		ceiling = MaxCircuitCoolDown
	}
	if succeeded && c.Open() && attemptAt.Before(c.OpenedAt) {
		return "" // made before it opened: says nothing of the endpoint since
	}
	if succeeded {
		wasOpen := c.Open()
		*c = Circuit{State: CircuitClosed}
		if wasOpen {
			return TransitionClosed
		}
		return ""
	}
	c.ConsecutiveFailures++
	switch {
	case !c.Open() && c.ConsecutiveFailures >= failures:
		c.State, c.OpenedAt, c.CoolDown = CircuitOpen, now, min(base, ceiling)
		c.NextProbeAt = now.Add(c.CoolDown)
		return TransitionOpened
	case c.Open() && !attemptAt.Before(c.NextProbeAt):
		c.OpenedAt, c.CoolDown = now, min(max(2*c.CoolDown, base), ceiling)
		c.NextProbeAt = now.Add(c.CoolDown)
		return TransitionReopened
	}
	if c.State == "" {
		c.State = CircuitClosed
	}
	return ""
}

// BreakerCheck, set on a Completion, gives the store the server's
// BreakerRule and receives the endpoint's circuit after the completion
// and the transition, if any, the completion made (so that exactly one
// node, the one whose completion made it, reports each transition).
type BreakerCheck struct {
	Rule BreakerRule
	// Held says the attempt got a 429 whose Retry-After now holds the
	// endpoint: the receiver is up and has said when to come back, so
	// the attempt neither counts as a failure nor closes the circuit.
	// Counting it would open the circuit for a cool-down that doubles to
	// minutes against a Retry-After of seconds.
	Held       bool
	Circuit    Circuit // out
	Transition string  // out: "" or a Transition… value
}

// Counts reports whether the completion that carries b moves its
// endpoint's circuit (Apply): every one but a Held one.
func (b *BreakerCheck) Counts() bool { return b == nil || !b.Held }

// EndpointRoom is the room of a claim at endpoint e under its cap
// (ConcurrencyOf) and its circuit: none while open, one (the probe)
// once half_open, counting the deliveries other owners hold.
func (r *ClaimRequest) EndpointRoom(e *Endpoint, others int) int {
	switch e.Circuit.StateAt(r.Now) {
	case CircuitOpen:
		return 0
	case CircuitHalfOpen:
		return r.Room(e.ID, 1, others)
	}
	return r.Room(e.ID, ConcurrencyOf(e, r.MaxConcurrency), others)
}
