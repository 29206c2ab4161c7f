package e2e

import (
	"net/http"
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
