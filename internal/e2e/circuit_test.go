package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// circuitOf reads an endpoint's circuit from the API.
func circuitOf(n *node, id string) (state string, failures int) {
	var e struct {
		Circuit struct {
			State       string `json:"state"`
			OpenedAt    *int64 `json:"opened_at"`
			NextProbeAt *int64 `json:"next_probe_at"`
		} `json:"circuit"`
		CircuitBreaker struct {
			Failures int `json:"failures"`
		} `json:"circuit_breaker"`
	}
	n.must(200, "GET", "/v1/endpoints/"+id, nil, &e)
	if e.Circuit.State != "closed" && (e.Circuit.OpenedAt == nil || e.Circuit.NextProbeAt == nil) {
		n.t.Fatalf("circuit %s without its times", e.Circuit.State)
	}
	return e.Circuit.State, e.CircuitBreaker.Failures
}

// scrape returns the /metrics lines of n that start with prefix.
func scrape(t *testing.T, n *node, prefix string) string {
	t.Helper()
	resp, err := http.Get(n.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// counterOf reads the value of one sample line of a scrape.
func counterOf(t *testing.T, lines, sample string) float64 {
	t.Helper()
	for _, l := range strings.Split(lines, "\n") {
		if v, ok := strings.CutPrefix(l, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %q: %v", l, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in\n%s", sample, lines)
	return 0
}

// A flapping endpoint's circuit opens after --breaker-failures failed
// attempts; while open its deliveries wait without attempts (so without
// spending retries) and a healthy endpoint beside it gets every event;
// after the cool-down one probe goes; its failure reopens the circuit for
// twice as long, its success closes it and the backlog is delivered. The
// state shows in the API and in /metrics, and an endpoint subscribed to
// hookline.* hears circuit_opened, circuit_opened again for the failed
// probe's reopening (a change back to open, told once), then
// circuit_closed, verified by the Standard Webhooks library. On SQLite
// and with two nodes on PostgreSQL, where the probe is one across the
// nodes (issue 18).
func TestCircuitBreaker(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			args := []string{"--dev", "--breaker-failures", "3", "--breaker-cooldown", "1s",
				"--retry-schedule", "500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms", "--log-level", "warn"}
			ns := dbNodes(t, db, args...)
			var failing atomic.Bool
			failing.Store(true)
			var failures, successes atomic.Int32
			flap := newReceiver(t)
			flap.respond = func(int, *http.Request) (int, http.Header) {
				if failing.Load() {
					failures.Add(1)
					return 500, nil
				}
				successes.Add(1)
				return 200, nil
			}
			healthy, monitor := newReceiver(t), newReceiver(t)
			// One at a time, so that exactly three attempts open it.
			ep := ns[0].createEndpoint(map[string]any{"url": flap.URL, "max_concurrency": 1})
			mon := ns[len(ns)-1].createEndpoint(map[string]any{"url": monitor.URL + "/ops", "enabled_events": []string{"hookline.*"}})
			ns[len(ns)-1].createEndpoint(map[string]any{"url": healthy.URL})
			if state, n := circuitOf(ns[0], ep.ID); state != "closed" || n != 3 {
				t.Fatalf("a new endpoint: circuit %q, failures %d; want closed and the server's 3", state, n)
			}

			for i := range 3 {
				ns[i%len(ns)].publish("flap.first", map[string]int{"i": i})
			}
			waitFor(t, 20*time.Second, "the circuit to open", func() bool {
				state, _ := circuitOf(ns[len(ns)-1], ep.ID)
				return state == "open"
			})
			// The third failure recorded opens it. The endpoint's slot opens
			// when an answer is in, before it is recorded, so one retry may
			// be under way as it opens (on a loaded machine, with the 500 ms
			// schedule): it counts, and moves nothing. Never more than one:
			// max_concurrency is 1 across the nodes.
			opened := failures.Load()
			if opened != 3 && opened != 4 {
				t.Fatalf("the circuit opened after %d failed attempts, want 3 (or 4, one in flight)", opened)
			}
			// While it is open, more events: the healthy endpoint gets them
			// all, the open one nothing. The metrics read once now, while
			// it is open (they are cached for a few seconds).
			const backlog = 10
			for i := range backlog {
				ns[i%len(ns)].publish("flap.more", map[string]int{"i": i})
			}
			if g := scrape(t, ns[0], "hookline_endpoints_circuit"); !strings.Contains(g, `hookline_endpoints_circuit{state="open"} 1`) &&
				!strings.Contains(g, `hookline_endpoints_circuit{state="half_open"} 1`) {
				t.Errorf("/metrics while open:\n%s", g)
			}
			waitFor(t, 20*time.Second, "the healthy endpoint to get every event", func() bool { return healthy.count() == 3+backlog })

			// The cool-down (1 s) ends: one probe, which fails and reopens
			// the circuit for 2 s, during which nothing more goes.
			failed := opened + 1 // and the probe
			waitFor(t, 10*time.Second, "the first probe", func() bool { return failures.Load() >= failed })
			time.Sleep(1500 * time.Millisecond)
			if f, s := failures.Load(), successes.Load(); f != failed || s != 0 {
				t.Fatalf("during the second cool-down the endpoint got %d failed and %d good attempts, want only the one probe (%d, 0)", f, s, failed)
			}
			if state, _ := circuitOf(ns[0], ep.ID); state == "closed" {
				t.Fatalf("after a failed probe the circuit is %s", state)
			}

			// The endpoint recovers: the next probe closes the circuit and
			// every delivery arrives, with no attempt beyond the 4 failed
			// ones and one success each: nothing was spent while it was open.
			failing.Store(false)
			waitFor(t, 30*time.Second, "the backlog to be delivered", func() bool { return successes.Load() == 3+backlog })
			waitFor(t, 5*time.Second, "the circuit to show closed", func() bool {
				state, _ := circuitOf(ns[0], ep.ID)
				return state == "closed"
			})
			time.Sleep(700 * time.Millisecond) // a retry spent while open would be due by now
			if f, s := failures.Load(), successes.Load(); f != failed || s != 3+backlog {
				t.Fatalf("the flapping endpoint got %d failed and %d good attempts, want %d and %d", f, s, failed, 3+backlog)
			}
			if got := len(ns[0].attempts("/v1/endpoints/" + ep.ID + "/attempts")); got != int(failed)+3+backlog {
				t.Fatalf("%d attempts on record, want %d", got, int(failed)+3+backlog)
			}
			var opens float64
			for _, n := range ns {
				opens += counterOf(t, scrape(t, n, "hookline_circuit_opens_total"), "hookline_circuit_opens_total")
			}
			if opens != 2 {
				t.Fatalf("the nodes counted %v circuit opens, want 2 (opened, reopened)", opens)
			}
			checkCircuitEvents(t, monitor, mon.Secret, ep.ID)
		})
	}
}

// circuitData is what checkCircuitEvents reads of a circuit event's data.
type circuitData struct {
	Endpoint struct {
		ID string `json:"id"`
	} `json:"endpoint"`
	EventID string `json:"event_id"`
	Attempt *struct {
		Status int `json:"status"`
	} `json:"attempt"`
	NextProbeAt int64  `json:"next_probe_at"` // unix seconds
	Reason      string `json:"reason"`
}

// checkCircuitEvents waits for the circuit events about endpoint epID that
// monitor received, each verified with the Standard Webhooks library under
// secret, and checks they are circuit_opened, with the failed attempt and
// the next probe, circuit_opened for the failed probe, with a later next
// probe, then circuit_closed, with the successful probe: one per
// transition, however many nodes made the attempts (a delivery may come
// twice, an event may not be published twice). The store records each
// with its transition, so the node that made it need not live to publish
// it.
func checkCircuitEvents(t *testing.T, monitor *receiver, secret, epID string) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	type circuitEvent struct {
		ID   string      `json:"id"`
		Type string      `json:"type"`
		Data circuitData `json:"data"`
	}
	var got []circuitEvent
	waitFor(t, 20*time.Second, "circuit_opened twice and circuit_closed at the hookline.* subscriber", func() bool {
		byID := map[string]circuitEvent{}
		for _, r := range monitor.all() {
			if err := wh.Verify(r.Body, r.Header); err != nil {
				t.Fatalf("the Standard Webhooks library rejects an operational event: %v\n%s", err, r.Body)
			}
			var ev circuitEvent
			if err := json.Unmarshal(r.Body, &ev); err != nil {
				t.Fatalf("decoding %s: %v", r.Body, err)
			}
			if strings.HasPrefix(ev.Type, "hookline.endpoint.circuit_") {
				byID[ev.ID] = ev
			}
		}
		got = got[:0]
		for _, ev := range byID {
			got = append(got, ev)
		}
		return len(got) >= 3
	})
	time.Sleep(1500 * time.Millisecond) // more than a round of each node's operational publisher: no fourth
	byID := map[string]circuitEvent{}
	for _, r := range monitor.all() {
		var ev circuitEvent
		if err := json.Unmarshal(r.Body, &ev); err == nil && strings.HasPrefix(ev.Type, "hookline.endpoint.circuit_") {
			byID[ev.ID] = ev
		}
	}
	got = got[:0]
	for _, ev := range byID {
		got = append(got, ev)
	}
	slices.SortFunc(got, func(a, b circuitEvent) int { return strings.Compare(a.ID, b.ID) }) // ids are time-ordered
	if len(got) != 3 || got[0].Type != "hookline.endpoint.circuit_opened" || got[1].Type != "hookline.endpoint.circuit_opened" ||
		got[2].Type != "hookline.endpoint.circuit_closed" {
		t.Fatalf("circuit events at the hookline.* subscriber: %+v; want circuit_opened, circuit_opened (reopened), circuit_closed", got)
	}
	opened, reopened, closed := got[0].Data, got[1].Data, got[2].Data
	for what, d := range map[string]circuitData{"circuit_opened": opened, "circuit_opened (reopened)": reopened} {
		if d.Endpoint.ID != epID || d.Attempt == nil || d.Attempt.Status != 500 || d.EventID == "" || d.NextProbeAt == 0 {
			t.Fatalf("%s data %+v: want endpoint %s, its failed attempt (500) and the next probe", what, d, epID)
		}
	}
	// The reason tells an opening from a reopening, for a subscriber that
	// wants to hear of an outage once.
	for _, c := range []struct {
		what string
		d    circuitData
		want string
	}{{"circuit_opened", opened, "failed attempts in a row"}, {"circuit_opened (reopened)", reopened, "the probe failed"}, {"circuit_closed", closed, "an attempt succeeded"}} {
		if c.d.Reason != c.want {
			t.Fatalf("%s reason %q, want %q", c.what, c.d.Reason, c.want)
		}
	}
	if reopened.NextProbeAt <= opened.NextProbeAt {
		t.Fatalf("the reopening's next probe %d is not after the opening's %d", reopened.NextProbeAt, opened.NextProbeAt)
	}
	if closed.Endpoint.ID != epID || closed.Attempt == nil || closed.Attempt.Status != 200 || closed.EventID == "" {
		t.Fatalf("circuit_closed data %+v: want endpoint %s and its successful probe (200)", closed, epID)
	}
}
