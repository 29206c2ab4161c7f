package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// While an endpoint's circuit is open its pending deliveries wait for the
// probe: the API shows each due at the circuit's next_probe_at, not at
// the retry time already past, and a resend is held the same way. On
// SQLite and with two nodes on PostgreSQL (issue 18, finding 4).
func TestNextAttemptAtWaitsForTheCircuit(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			// The first failure opens the circuit for 10 minutes; the
			// retry would be due a second later.
			ns := dbNodes(t, db, "--dev", "--breaker-failures", "1", "--breaker-cooldown", "10m", "--retry-schedule", "1s", "--log-level", "warn")
			down := newReceiver(t)
			down.respond = func(int, *http.Request) (int, http.Header) { return 500, nil }
			ep := ns[0].createEndpoint(map[string]any{"url": down.URL})
			ev := ns[0].publish("down.tick", map[string]int{"i": 1})

			var e struct {
				Circuit struct {
					State       string `json:"state"`
					NextProbeAt *int64 `json:"next_probe_at"`
				} `json:"circuit"`
			}
			waitFor(t, 20*time.Second, "the circuit to open", func() bool {
				ns[len(ns)-1].must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &e)
				return e.Circuit.State == "open"
			})
			probe := *e.Circuit.NextProbeAt
			type deliveries struct {
				Data []struct {
					EndpointID    string `json:"endpoint_id"`
					Status        string `json:"status"`
					NextAttemptAt *int64 `json:"next_attempt_at"`
				} `json:"data"`
			}
			check := func(what string, l deliveries) {
				t.Helper()
				if len(l.Data) != 1 || l.Data[0].Status != "pending" || l.Data[0].NextAttemptAt == nil {
					t.Fatalf("%s: %+v, want one pending delivery", what, l.Data)
				}
				if got := *l.Data[0].NextAttemptAt; got != probe {
					t.Fatalf("%s: next_attempt_at %s, want the circuit's next_probe_at %s (now %s)", what,
						time.Unix(got, 0).UTC(), time.Unix(probe, 0).UTC(), time.Now().UTC())
				}
			}
			// Past the retry time the row holds: still the probe's time.
			time.Sleep(1500 * time.Millisecond)
			for _, n := range ns {
				var l deliveries
				n.must(200, "GET", "/v1/events/"+ev.ID+"/deliveries", nil, &l)
				check("read", l)
			}
			var l deliveries
			ns[0].must(202, "POST", "/v1/events/"+ev.ID+"/resend", map[string]any{"endpoint_id": ep.ID}, &l)
			check("resent", l)
			if got := down.count(); got != 1 {
				t.Fatalf("the endpoint got %d attempts while its circuit was open, want the 1 that opened it", got)
			}
		})
	}
}

// While a receiver's 429 with Retry-After holds an endpoint, the endpoint
// shows the hold (held_until, in the API and in `endpoints get`) and its
// pending deliveries show when they will really go: not before the hold
// ends, not at a publish or retry time already past. On SQLite and with
// two nodes on PostgreSQL (issue 18).
func TestNextAttemptAtWaitsForThe429Hold(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			ns := dbNodes(t, db, "--dev", "--retry-schedule", "1s", "--log-level", "warn")
			slow := newReceiver(t)
			slow.respond = func(n int, _ *http.Request) (int, http.Header) {
				if n == 1 {
					return 429, http.Header{"Retry-After": {"3"}}
				}
				return 200, nil
			}
			ep := ns[0].createEndpoint(map[string]any{"url": slow.URL})
			var before struct {
				HeldUntil *int64 `json:"held_until"`
			}
			ns[0].must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &before)
			if before.HeldUntil != nil {
				t.Fatalf("held_until %d before any 429, want null", *before.HeldUntil)
			}
			first := ns[0].publish("slow.tick", map[string]int{"i": 1})
			waitFor(t, 20*time.Second, "the 429", func() bool { return slow.count() == 1 })
			answered := time.Now()

			var e struct {
				HeldUntil *int64 `json:"held_until"`
			}
			waitFor(t, 2*time.Second, "held_until on the endpoint", func() bool {
				ns[len(ns)-1].must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &e)
				return e.HeldUntil != nil
			})
			held := *e.HeldUntil
			// Unix seconds: 3 s after the 429, give or take the second
			// it is truncated to and the time the answer took to arrive.
			if lo, hi := answered.Add(time.Second).Unix(), answered.Add(4*time.Second).Unix(); held < lo || held > hi {
				t.Fatalf("held_until %s, want about 3 s after the 429 at %s", time.Unix(held, 0).UTC(), answered.UTC())
			}
			if out := runCLI(t, ns[0].URL, "endpoints", "get", ep.ID); !strings.Contains(out, "held until") {
				t.Fatalf("endpoints get shows no hold:\n%s", out)
			}

			// Published while held: due at once by their rows, they go
			// when the hold ends.
			later := []event{ns[0].publish("slow.tick", map[string]int{"i": 2}), ns[0].publish("slow.tick", map[string]int{"i": 3})}
			for _, n := range ns {
				for _, ev := range append([]event{first}, later...) {
					var l struct {
						Data []struct {
							Status        string `json:"status"`
							NextAttemptAt *int64 `json:"next_attempt_at"`
						} `json:"data"`
					}
					n.must(200, "GET", "/v1/events/"+ev.ID+"/deliveries", nil, &l)
					if time.Now().Unix() >= held {
						t.Fatalf("the reads took past the hold (%s); cannot check them", time.Unix(held, 0).UTC())
					}
					if len(l.Data) != 1 || l.Data[0].Status != "pending" || l.Data[0].NextAttemptAt == nil {
						t.Fatalf("event %s while held: %+v, want one pending delivery", ev.ID, l.Data)
					}
					if got := *l.Data[0].NextAttemptAt; got < held {
						t.Fatalf("event %s: next_attempt_at %s, before held_until %s", ev.ID,
							time.Unix(got, 0).UTC(), time.Unix(held, 0).UTC())
					}
				}
			}
			if got := slow.count(); got != 1 {
				t.Fatalf("the endpoint got %d requests while held, want the 1 that was answered 429", got)
			}
			// Then they go, and the hold is gone from the endpoint.
			waitFor(t, 20*time.Second, "the held deliveries", func() bool { return slow.count() == 4 })
			var after struct {
				HeldUntil *int64 `json:"held_until"`
			}
			waitFor(t, 5*time.Second, "held_until to clear", func() bool {
				ns[len(ns)-1].must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &after)
				return after.HeldUntil == nil
			})
		})
	}
}
