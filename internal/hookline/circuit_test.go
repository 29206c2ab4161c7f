package hookline

import (
	"testing"
	"time"
)

// TestBreakerRule walks the breaker's one rule through its cases: the
// count, the opening, failures in flight, a stale success, the probe's
// failure (doubled, capped) and its success.
func TestBreakerRule(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	rule := BreakerRule{CoolDown: 10 * time.Second, MaxCoolDown: 25 * time.Second}
	fail := func(start time.Duration) *Attempt {
		return &Attempt{Created: at(start), ResponseStatus: 500, DurationMS: 100}
	}
	ok := func(start time.Duration) *Attempt {
		return &Attempt{Created: at(start), ResponseStatus: 204, DurationMS: 100}
	}
	var c Circuit
	steps := []struct {
		name       string
		a          *Attempt
		transition string
		state      string
		count      int
		probe      time.Time
	}{
		{"first failure counts", fail(0), "", CircuitClosed, 1, time.Time{}},
		{"a success clears the count", ok(time.Second), "", CircuitClosed, 0, time.Time{}},
		{"failure 1", fail(2 * time.Second), "", CircuitClosed, 1, time.Time{}},
		{"failure 2", fail(3 * time.Second), "", CircuitClosed, 2, time.Time{}},
		{"failure 3 opens for 10s from its end", fail(4 * time.Second), TransitionOpened, CircuitOpen, 3, at(14*time.Second + 100*time.Millisecond)},
		{"a failure in flight counts only", fail(4 * time.Second), "", CircuitOpen, 4, at(14*time.Second + 100*time.Millisecond)},
		{"a success from before the opening changes nothing", ok(3 * time.Second), "", CircuitOpen, 4, at(14*time.Second + 100*time.Millisecond)},
		{"the probe fails: 20s", fail(15 * time.Second), TransitionReopened, CircuitOpen, 5, at(35*time.Second + 100*time.Millisecond)},
		{"the next fails: capped at 25s", fail(36 * time.Second), TransitionReopened, CircuitOpen, 6, at(61*time.Second + 100*time.Millisecond)},
		{"the probe succeeds", ok(62 * time.Second), TransitionClosed, CircuitClosed, 0, time.Time{}},
		{"a later failure counts from 1", fail(63 * time.Second), "", CircuitClosed, 1, time.Time{}},
	}
	for _, s := range steps {
		got := rule.Apply(&c, 3, s.a)
		if got != s.transition || c.StateAt(s.a.Created) != s.state && !(s.state == CircuitOpen && c.Open()) ||
			c.ConsecutiveFailures != s.count || !c.NextProbeAt.Equal(s.probe) {
			t.Fatalf("%s: transition %q, circuit %+v; want %q, %s, count %d, probe %v", s.name, got, c, s.transition, s.state, s.count, s.probe)
		}
	}
}

// TestEndpointRoom: an open circuit gets no room before its probe, one
// delivery (across owners) after, a closed one its cap.
func TestEndpointRoom(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	open := Circuit{State: CircuitOpen, NextProbeAt: now.Add(time.Second)}
	half := Circuit{State: CircuitOpen, NextProbeAt: now}
	cases := []struct {
		name   string
		c      Circuit
		held   int
		others int
		want   int
	}{
		{"closed", Circuit{State: CircuitClosed}, 0, 0, 4},
		{"closed, never written", Circuit{}, 1, 1, 2},
		{"open", open, 0, 0, 0},
		{"half open", half, 0, 0, 1},
		{"half open, our probe in flight", half, 1, 0, 0},
		{"half open, another node's probe", half, 0, 1, 0},
	}
	for _, c := range cases {
		r := ClaimRequest{Now: now, Limit: 100, Held: map[string]int{"ep": c.held}}
		e := &Endpoint{ID: "ep", MaxConcurrency: 4, Circuit: c.c}
		if got := r.EndpointRoom(e, c.others); got != c.want {
			t.Errorf("%s: room %d, want %d", c.name, got, c.want)
		}
	}
	if s := half.StateAt(now); s != CircuitHalfOpen {
		t.Errorf("half open reads %q", s)
	}
}
