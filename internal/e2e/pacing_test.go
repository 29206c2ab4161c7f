package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// seqOf reads the "i" of an event's data from a delivered body.
func seqOf(t *testing.T, body []byte) int {
	t.Helper()
	var ev struct {
		Data struct {
			I int `json:"i"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("delivered body %q: %v", body, err)
	}
	return ev.Data.I
}

// A FIFO endpoint gets its events one at a time in publish order: the
// 10th, 50th and 120th fail once each, their retries come before the next
// event, and nothing overtakes, across a restart; with two nodes on
// PostgreSQL too, the events published on both in turn (issue 18).
func TestFIFOEndpointKeepsOrder(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			ns := dbNodes(t, db, "--dev", "--log-level", "warn")
			const events = 200
			failOnce := map[int]bool{9: true, 49: true, 119: true} // the 10th, 50th and 120th
			var (
				mu        sync.Mutex
				failed    = map[int]bool{}
				inFlight  atomic.Int32
				overlaps  atomic.Int32
				order     []int
				rcv       = newReceiver(t)
				unordered = newReceiver(t)
			)
			rcv.respond = func(n int, _ *http.Request) (int, http.Header) {
				if inFlight.Add(1) > 1 {
					overlaps.Add(1)
				}
				defer inFlight.Add(-1)
				i := seqOf(t, rcv.all()[n-1].Body)
				mu.Lock()
				order = append(order, i)
				fail := failOnce[i] && !failed[i]
				failed[i] = failed[i] || fail
				mu.Unlock()
				time.Sleep(time.Millisecond) // long enough for a second request to overlap, were one sent
				if fail {
					return 500, nil
				}
				return 200, nil
			}
			ep := ns[0].createEndpoint(map[string]any{"url": rcv.URL, "ordering": "fifo", "retry_schedule": []string{"100ms"}})
			ns[len(ns)-1].createEndpoint(map[string]any{"url": unordered.URL})
			var got struct {
				Ordering       string `json:"ordering"`
				MaxConcurrency int    `json:"max_concurrency"`
			}
			ns[0].must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &got)
			if got.Ordering != "fifo" || got.MaxConcurrency != 1 {
				t.Fatalf("the endpoint shows ordering %q and max_concurrency %d, want fifo and 1", got.Ordering, got.MaxConcurrency)
			}
			evIDs := make([]string, events)
			for i := range events {
				evIDs[i] = ns[i%len(ns)].publish("tick.tock", map[string]int{"i": i}).ID
			}
			arrived := func() int {
				mu.Lock()
				defer mu.Unlock()
				return len(order)
			}
			// Midway, the node that created the endpoint stops: on SQLite
			// it crashes (SIGKILL), on PostgreSQL it shuts down while the
			// other goes on; then it starts again on the same data.
			waitFor(t, 60*time.Second, "a third of the events at the FIFO endpoint", func() bool { return arrived() >= events/3 })
			if db == "sqlite" {
				ns[0].kill()
			} else {
				ns[0].terminate()
			}
			ns[0].restart()
			waitFor(t, 90*time.Second, "every event at the FIFO endpoint", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(order) > 0 && order[len(order)-1] == events-1
			})
			time.Sleep(300 * time.Millisecond) // anything out of order after the last would show
			mu.Lock()
			defer mu.Unlock()
			// In publish order, each event after the one before: a retry
			// repeats an event at once, and so may the one in flight when
			// the node crashed (at least once); nothing comes back later.
			var distinct []int
			repeats := map[int]int{}
			for k, i := range order {
				if k > 0 && order[k-1] == i {
					repeats[i]++
					continue
				}
				distinct = append(distinct, i)
			}
			want := make([]int, events)
			for i := range want {
				want[i] = i
			}
			if !slices.Equal(distinct, want) {
				for k := range distinct {
					if k >= len(want) || distinct[k] != want[k] {
						t.Fatalf("after event %d came event %d (arrived: …%v…)", want[k-1], distinct[k], distinct[max(0, k-5):min(len(distinct), k+5)])
					}
				}
				t.Fatalf("%d distinct events arrived in order, want %d", len(distinct), events)
			}
			extra := 0
			for i, n := range repeats {
				if !failOnce[i] || n > 1 {
					extra += n
				}
			}
			for i := range failOnce {
				if repeats[i] == 0 {
					t.Fatalf("event %d failed once and was not retried before the next", i)
				}
			}
			if extra > 1 {
				t.Fatalf("%d repeated deliveries beyond the retries (%v); a crash explains one at most", extra, repeats)
			}
			if n := overlaps.Load(); n > 0 {
				t.Fatalf("%d requests reached the FIFO endpoint while another was in flight", n)
			}
			if n := unordered.count(); n != events {
				waitFor(t, 30*time.Second, "the unordered endpoint's events", func() bool { return unordered.count() == events })
			}
			// The failures are on record as attempts.
			for i := range failOnce {
				var statuses []int
				for _, a := range ns[0].attempts("/v1/events/" + evIDs[i] + "/attempts") {
					if a.EndpointID == ep.ID {
						statuses = append(statuses, a.ResponseStatus)
					}
				}
				if !slices.Equal(statuses, []int{200, 500}) { // newest first
					t.Fatalf("event %d has attempts %v on record, want a 500, then a 200", i, statuses)
				}
			}
		})
	}
}

// An endpoint limited to 20 deliveries a second gets 400 events at 20/s
// ± 10 %, over the run, from one node on SQLite and from two nodes sharing
// PostgreSQL, whose claims share one bucket; an endpoint beside it without
// a limit gets its events at once (issue 18).
func TestRateLimitedEndpoint(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			ns := dbNodes(t, db, "--dev", "--log-level", "warn")
			const events, rate = 400, 20.0
			limited, free := newReceiver(t), newReceiver(t)
			ns[0].createEndpoint(map[string]any{"url": limited.URL, "rate_limit": map[string]any{"per_second": rate}})
			ns[len(ns)-1].createEndpoint(map[string]any{"url": free.URL})
			for i := range events {
				ns[i%len(ns)].publish("tick.tock", map[string]int{"i": i})
			}
			waitFor(t, 15*time.Second, "the unlimited endpoint's events", func() bool { return free.count() == events })
			if n := limited.count(); n > events/2 {
				t.Fatalf("the limited endpoint got %d of %d events while the other got them all", n, events)
			}
			waitFor(t, 60*time.Second, "the limited endpoint's events", func() bool { return limited.count() >= events })
			time.Sleep(200 * time.Millisecond) // any duplicate would be a delivery over the limit
			got := limited.all()
			if len(got) != events {
				t.Fatalf("the limited endpoint got %d deliveries, want %d", len(got), events)
			}
			measured := float64(len(got)-1) / got[len(got)-1].At.Sub(got[0].At).Seconds()
			t.Logf("%s: %d deliveries at %.2f/s (limit %.0f/s)", db, len(got), measured, rate)
			if measured < rate*0.9 || measured > rate*1.1 {
				t.Fatalf("the limited endpoint got %.2f deliveries a second, want %.0f ± 10 %%", measured, rate)
			}
		})
	}
}

// A 429 with Retry-After holds that endpoint, on every node, until the
// time it asks for; an endpoint beside it gets its events meanwhile
// (issue 18).
func TestRetryAfterHoldsOnlyThatEndpoint(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			ns := dbNodes(t, db, "--dev", "--log-level", "warn")
			busy, other := newReceiver(t), newReceiver(t)
			busy.respond = func(n int, _ *http.Request) (int, http.Header) {
				if n == 1 {
					return 429, http.Header{"Retry-After": {"2"}}
				}
				return 200, nil
			}
			ns[0].createEndpoint(map[string]any{"url": busy.URL, "max_concurrency": 1, "retry_schedule": []string{"100ms"}})
			ns[len(ns)-1].createEndpoint(map[string]any{"url": other.URL})
			const events = 5
			for i := range events {
				ns[i%len(ns)].publish("tick.tock", map[string]int{"i": i})
			}
			waitFor(t, 10*time.Second, "the other endpoint's events", func() bool { return other.count() == events })
			waitFor(t, 10*time.Second, "the busy endpoint's events", func() bool { return busy.count() == events+1 })
			got, others := busy.all(), other.all()
			held := got[0].At.Add(2*time.Second - 50*time.Millisecond) // Retry-After has whole seconds; the clock, ms
			for k, r := range got[1:] {
				if r.At.Before(held) {
					t.Fatalf("request %d reached the endpoint %v after its 429 asked for 2s", k+2, r.At.Sub(got[0].At))
				}
			}
			if last := others[len(others)-1].At; !last.Before(held) {
				t.Fatalf("the other endpoint's last event came %v after the 429: it was held too", last.Sub(got[0].At))
			}
		})
	}
}

// A 429 that says when to come back (Retry-After) holds the endpoint and
// leaves its circuit alone: the receiver is up, and a cool-down doubling
// to minutes would outlast what it asked for. A 429 without Retry-After
// is a failure like any other and opens the circuit (issue 18).
func TestRetryAfterLeavesTheCircuitAlone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		retryAfter http.Header
		attempts   int // on record before the circuit is read
		wantState  string
	}{
		// Five 429s, more than the breaker's three failures.
		{"with Retry-After", http.Header{"Retry-After": {"1"}}, 5, "closed"},
		// The third opens it, and no attempt follows within the cool-down.
		{"without Retry-After", nil, 3, "open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := dbNodes(t, "sqlite", "--dev", "--log-level", "warn")[0]
			busy := newReceiver(t)
			busy.respond = func(int, *http.Request) (int, http.Header) { return 429, tc.retryAfter }
			ep := n.createEndpoint(map[string]any{"url": busy.URL, "max_concurrency": 1,
				"retry_schedule": []string{"0s", "0s", "0s", "0s"}, "circuit_breaker": map[string]any{"failures": 3}})
			n.publish("tick.tock", map[string]int{"i": 0})
			waitFor(t, 20*time.Second, "the attempts on record", func() bool {
				st, _ := circuitOf(n, ep.ID)
				t.Logf("%d received, %d on record, %s", busy.count(), len(n.attempts("/v1/endpoints/"+ep.ID+"/attempts")), st)
				return len(n.attempts("/v1/endpoints/"+ep.ID+"/attempts")) >= tc.attempts
			})
			if state, _ := circuitOf(n, ep.ID); state != tc.wantState {
				t.Fatalf("after %d 429s %s the circuit is %s, want %s", tc.attempts, tc.name, state, tc.wantState)
			}
		})
	}
}
