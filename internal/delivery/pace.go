package delivery

import (
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// pacing holds the one timer that wakes the claim loop when the next token
// of a rate-limited endpoint it claimed for is due: a claim takes only
// the tokens a bucket holds, and without it the rest of a backlog would
// wait for the next poll, a burst a poll apart (or one a poll, with a
// burst of 1).
type pacing struct {
	mu    sync.Mutex
	timer *time.Timer
	at    time.Time
	// holds are the endpoints this node held after a 429, until when: a
	// publish leases none of their deliveries meanwhile (Engine.Admit).
	// The store holds them for claims, and for other nodes' publishes.
	holds map[string]time.Time
}

// hold records that endpoint id is held until until.
func (w *pacing) hold(id string, until time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.holds == nil {
		w.holds = map[string]time.Time{}
	}
	now := time.Now()
	for k, u := range w.holds { // ended holds go, so the map stays as small as what is held
		if !u.After(now) {
			delete(w.holds, k)
		}
	}
	if until.After(w.holds[id]) {
		w.holds[id] = until
	}
}

// held reports whether endpoint id is held at now.
func (w *pacing) held(id string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return now.Before(w.holds[id])
}

// wakeForTokens arms the timer for the earliest next token of the
// rate-limited endpoints tasks were claimed for, unless it is armed
// earlier already. A claim then that finds no token (another node took
// it) arms nothing: the poll goes on.
func (e *Engine) wakeForTokens(tasks []*hookline.Task) {
	var every time.Duration
	for _, t := range tasks {
		if rl := t.Endpoint.RateLimit; rl != nil {
			d := time.Duration(float64(time.Second) / rl.PerSecond)
			if every == 0 || d < every {
				every = d
			}
		}
	}
	if every == 0 || every >= e.cfg.PollInterval {
		return
	}
	e.wakeAt(time.Now().Add(every + time.Millisecond))
}

// wakeAt arms the claim loop's timer for at, unless it is armed for
// earlier already: the next token of a rate-limited endpoint, or the
// earliest retry this node scheduled, comes due between two polls, and
// waiting for the poll would make it up to a PollInterval late.
func (e *Engine) wakeAt(at time.Time) {
	now := time.Now()
	w := &e.pacing
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil && w.at.After(now) && !w.at.After(at) {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.at = at
	w.timer = time.AfterFunc(at.Sub(now), e.Wake)
}
