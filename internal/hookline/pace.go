package hookline

import (
	"math"
	"time"
)

// An endpoint's Ordering.
const (
	OrderingUnordered = "unordered"
	// OrderingFIFO makes an endpoint's deliveries one at a time in publish
	// order: a delivery waits until the one before it has succeeded or has
	// failed for good (its retries spent).
	OrderingFIFO = "fifo"
)

// Bounds of a RateLimit.
const (
	MaxRatePerSecond = 100000
	MaxRateBurst     = 100000
)

// RateLimit paces an endpoint's deliveries, across every node sharing the
// store: a token bucket of Burst tokens refilled at PerSecond. Deliveries
// over it wait; they do not fail and spend no retry.
type RateLimit struct {
	PerSecond float64
	// Burst is the bucket's size; 0 means one second's worth (at least 1).
	Burst int
}

// BurstOf is the size of rl's bucket.
func (rl *RateLimit) BurstOf() float64 {
	if rl.Burst > 0 {
		return float64(rl.Burst)
	}
	return max(1, math.Ceil(rl.PerSecond))
}

// FIFO reports whether e's deliveries go one at a time in publish order.
func (e *Endpoint) FIFO() bool { return e.Ordering == OrderingFIFO }

// Paced reports whether e's deliveries must go through a claim, which
// applies its ordering and rate limit, rather than be leased at publish.
func (e *Endpoint) Paced() bool { return e.FIFO() || e.RateLimit != nil }

// Bucket is the pacing state of one endpoint a store keeps between claims:
// the tokens of its rate limit as of At, and Until, before which nothing
// is claimed for it (a 429's Retry-After).
type Bucket struct {
	Tokens float64
	At     time.Time
	Until  time.Time
}

// PaceRoom caps room, an endpoint's room under its concurrency cap, by
// its pacing at now: none before b.Until, and no more than the whole
// tokens of its rate limit. A Bucket never written (zero At) is full.
func PaceRoom(e *Endpoint, b Bucket, now time.Time, room int) int {
	if now.Before(b.Until) {
		return 0
	}
	if e.RateLimit == nil {
		return room
	}
	return min(room, int(math.Floor(b.refill(e.RateLimit, now))))
}

// refill is the tokens b holds at now under rl.
func (b Bucket) refill(rl *RateLimit, now time.Time) float64 {
	if b.At.IsZero() {
		return rl.BurstOf()
	}
	return min(rl.BurstOf(), b.Tokens+max(0, now.Sub(b.At).Seconds())*rl.PerSecond)
}

// Take is b after n deliveries of an endpoint limited by rl were claimed
// at now.
func (b Bucket) Take(rl *RateLimit, now time.Time, n int) Bucket {
	if rl == nil {
		return b
	}
	b.Tokens, b.At = b.refill(rl, now)-float64(n), now
	return b
}
