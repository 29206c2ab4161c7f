package e2e

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// A slow endpoint gets no more requests at once than its max_concurrency,
// over all nodes, and the healthy endpoint beside it gets every event
// meanwhile: on SQLite, and with two nodes on PostgreSQL (issue 18).
// Correctness only; the rate is BenchmarkIsolation's. The slow endpoint
// answers (late) rather than hanging, so that a request counts as over
// before its answer leaves: a request the sender gave up on would end at
// the receiver only once it noticed, after the next had begun.
func TestEndpointConcurrencyCap(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			args := []string{"--dev", "--timeout", "5s", "--log-level", "warn"}
			ns := dbNodes(t, db, args...)
			var now, most, total atomic.Int32
			slow := newReceiver(t)
			slow.respond = func(_ int, r *http.Request) (int, http.Header) {
				total.Add(1)
				n := now.Add(1)
				defer now.Add(-1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				select {
				case <-time.After(time.Second):
				case <-r.Context().Done():
				}
				return 200, nil
			}
			healthy := newReceiver(t)
			const limit, events = 3, 120
			ep := ns[0].createEndpoint(map[string]any{"url": slow.URL, "max_concurrency": limit})
			if ep.MaxConcurrency != limit {
				t.Fatalf("endpoint shows max_concurrency %d, want %d", ep.MaxConcurrency, limit)
			}
			ns[len(ns)-1].createEndpoint(map[string]any{"url": healthy.URL})
			for i := range events {
				ns[i%len(ns)].publish("tick.tock", map[string]string{"i": strconv.Itoa(i)})
			}
			waitFor(t, 60*time.Second, "the healthy endpoint to get every event", func() bool { return healthy.count() == events })
			// Several rounds at the slow endpoint, from every node.
			waitFor(t, 30*time.Second, "three rounds at the slow endpoint", func() bool { return total.Load() >= 3*limit })
			if m := most.Load(); m > limit {
				t.Fatalf("the slow endpoint had %d requests at once, over its max_concurrency of %d", m, limit)
			}
			if m := most.Load(); m < limit {
				t.Fatalf("the slow endpoint had at most %d requests at once: its %d slots were not used", m, limit)
			}
		})
	}
}
