package delivery

import (
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// circuits remembers the endpoints whose circuit this node's completions
// found open, and until when: a delivery of one that was leased before it
// opened is handed back instead of attempted. The store's claim rule
// (hookline.ClaimRequest.EndpointRoom) keeps the others from being leased.
type circuits struct {
	mu   sync.Mutex
	open map[string]time.Time // endpoint id → NextProbeAt
}

// openUntil reports whether t's endpoint has an open circuit at now
// whose probe is not due yet, and when it is.
func (c *circuits) openUntil(t *hookline.Task, now time.Time) (time.Time, bool) {
	if t.Request != nil {
		return time.Time{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	probe, ok := c.open[t.Endpoint.ID]
	if !ok || !now.Before(probe) {
		return time.Time{}, false
	}
	return probe, true
}

// circuitsMoved notes the circuits a recorded batch left open or closed,
// logs the transitions its completions made and wakes the claim for a
// circuit closed. Their operational events (circuit_opened, circuit_closed)
// were recorded by the store with the transitions, in the completions'
// transaction, and are published by Operational from there.
func (e *Engine) circuitsMoved(batch []completion) {
	e.circuits.mu.Lock()
	for _, c := range batch {
		if b := c.c.Breaker; b != nil && b.Circuit.State != "" {
			if b.Circuit.Open() {
				e.circuits.open[c.task.Endpoint.ID] = b.Circuit.NextProbeAt
			} else {
				delete(e.circuits.open, c.task.Endpoint.ID)
			}
		}
	}
	e.circuits.mu.Unlock()
	for _, c := range batch {
		b := c.c.Breaker
		if b == nil || b.Transition == "" {
			continue
		}
		ep := c.task.Endpoint
		switch b.Transition {
		case hookline.TransitionOpened, hookline.TransitionReopened:
			e.cfg.Logger.Warn("circuit opened", "endpoint", ep.ID, "transition", b.Transition,
				"failures", b.Circuit.ConsecutiveFailures, "next_probe_at", b.Circuit.NextProbeAt)
		case hookline.TransitionClosed:
			e.cfg.Logger.Info("circuit closed", "endpoint", ep.ID)
			e.Wake() // its backlog is claimable again
		}
	}
}
