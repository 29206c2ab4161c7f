package hookline

import (
	"cmp"
	"slices"
	"time"
)

// Bounds of an endpoint's MaxConcurrency and Timeout, and the server
// default of the first. The default is small enough that an endpoint
// which hangs holds few of a node's deliveries, and large enough that a
// healthy one is not held back: a cap of 10 in flight, at the 2–5 ms a
// loopback answer takes under load, held one endpoint to a quarter of the
// relay benchmark's rate (0.26× the null relay against 0.56× at 32, and a
// healthy endpoint beside hanging, refusing and failing ones kept 1.1–1.2×
// its rate beside healthy ones at 32).
const (
	DefaultMaxConcurrency = 32
	MaxMaxConcurrency     = 1000
	MinEndpointTimeout    = time.Second
	MaxEndpointTimeout    = 5 * time.Minute
)

// ClaimRequest asks Store.ClaimTasks for due deliveries. The fairness rule
// lives here, once, for both stores: every endpoint (or connection) has a
// cap on the deliveries leased to it at a time, across every node sharing
// the store; a claim leases no more of an endpoint's deliveries than its
// room under that cap, and takes the endpoints round robin (the oldest due
// delivery of each, then the second of each, …), so that one endpoint's
// backlog neither fills a claim nor is claimed to wait in memory.
type ClaimRequest struct {
	Owner string
	Now   time.Time
	// Lease is how long a delivery to an endpoint with the default Timeout
	// stays leased; EndpointLease lengthens it for longer timeouts.
	Lease time.Duration
	// Limit bounds the deliveries of the whole claim.
	Limit int
	// MaxConcurrency caps an endpoint without its own
	// (DefaultMaxConcurrency when 0).
	MaxConcurrency int
	// Timeout is the attempt timeout of an endpoint without its own.
	Timeout time.Duration
	// Held counts, per endpoint or connection id, the deliveries Owner holds
	// already: leased, and not yet completed or given back.
	Held map[string]int
}

// ConcurrencyOf is the cap on deliveries leased to e at a time.
func ConcurrencyOf(e *Endpoint, def int) int {
	if e.FIFO() {
		return 1 // and only its oldest pending delivery, when due (the stores' claims)
	}
	if e.MaxConcurrency > 0 {
		return e.MaxConcurrency
	}
	if def > 0 {
		return def
	}
	return DefaultMaxConcurrency
}

// TimeoutOf is the attempt timeout of e.
func TimeoutOf(e *Endpoint, def time.Duration) time.Duration {
	if e.Timeout > 0 {
		return e.Timeout
	}
	return def
}

// Room is how many more deliveries of the endpoint (or connection) id,
// capped at limit, the claim may lease while other owners hold others of
// them.
func (r *ClaimRequest) Room(id string, limit, others int) int {
	return max(0, min(limit-r.Held[id]-others, r.Limit))
}

// EndpointLease is how long a delivery to e is leased: long enough for a
// whole attempt at e's timeout, which may be longer than the default one.
func (r *ClaimRequest) EndpointLease(e *Endpoint) time.Duration {
	if extra := TimeoutOf(e, r.Timeout) - r.Timeout; extra > 0 && r.Timeout > 0 {
		return r.Lease + 2*extra
	}
	return r.Lease
}

// FairOrder merges per-endpoint candidates, each list oldest due first,
// round robin: every endpoint's first, then every endpoint's second, and so
// on, by due time within a round; it keeps at most limit. A store that
// cannot rank in SQL ranks with it.
func FairOrder[T any](lists [][]T, due func(T) time.Time, limit int) []T {
	type ranked struct {
		rank int
		due  time.Time
		v    T
	}
	var all []ranked
	for _, l := range lists {
		for i, v := range l {
			all = append(all, ranked{i, due(v), v})
		}
	}
	slices.SortStableFunc(all, func(a, b ranked) int {
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		return a.due.Compare(b.due)
	})
	out := make([]T, 0, min(len(all), limit))
	for _, r := range all[:min(len(all), limit)] {
		out = append(out, r.v)
	}
	return out
}
