package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// benchEndpoints is the subscription set of every benchmark: a handful of
// endpoints of which each event matches two, so fan-out and matching cost
// what they would in a small real deployment.
var benchEndpoints = [][]string{{"*"}, {"invoice.*"}, {"customer.*"}, {"charge.refunded"}, {"payout.*", "transfer.*"}}

// benchFanOut is how many deliveries each benchmark event (type
// "invoice.paid") fans out to.
const benchFanOut = 2

// Bench runs the store's throughput benchmarks: publishing in batches (with
// and without leasing the deliveries at publish), and claiming then
// completing deliveries in batches. open must return a new, empty store and
// close it when b ends. Each reports deliveries/s (and events/s for
// publishing) beside ns/op.
func Bench(b *testing.B, open func(b *testing.B) hookline.Store) {
	for _, batch := range []int{1, 32} {
		for _, leased := range []bool{false, true} {
			name := fmt.Sprintf("Publish/batch=%d", batch)
			if leased {
				name += "/leased"
			}
			b.Run(name, func(b *testing.B) { benchPublish(b, open(b), batch, leased) })
		}
	}
	for _, batch := range []int{1, 32, 128} {
		b.Run(fmt.Sprintf("ClaimComplete/batch=%d", batch), func(b *testing.B) { benchClaimComplete(b, open(b), batch) })
	}
}

func benchSetup(b *testing.B, s hookline.Store) {
	b.Helper()
	for _, patterns := range benchEndpoints {
		e := &hookline.Endpoint{
			ID: hookline.NewID("ep"), URL: "https://example.test/hook", EnabledEvents: patterns,
			Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_bench",
			Created: base, Updated: base,
		}
		if err := s.CreateEndpoint(b.Context(), e); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEvents returns n new events of about 300 bytes each.
func benchEvents(n int, created time.Time) []*hookline.Event {
	data := []byte(`{"object":{"id":"in_1Nw","amount_due":4200,"currency":"eur","customer":"cus_9s6XKzkNRiz8i3","lines":[{"amount":4200,"description":"1 × Pro plan"}]}}`)
	evs := make([]*hookline.Event, n)
	for i := range evs {
		id := hookline.NewID("evt")
		payload, err := hookline.NewEventPayload(id, "invoice.paid", created, "", data)
		if err != nil {
			panic(err)
		}
		evs[i] = &hookline.Event{ID: id, Type: "invoice.paid", Created: created, Payload: payload}
	}
	return evs
}

func benchPublish(b *testing.B, s hookline.Store, batch int, leased bool) {
	benchSetup(b, s)
	ctx := b.Context()
	opts := hookline.PublishOptions{Now: base, IdempotencyWindow: 24 * time.Hour}
	if leased {
		opts.LeaseOwner, opts.LeaseExpires = "bench", base.Add(time.Minute)
	}
	var busy time.Duration // time spent in the store, for the rates
	for b.Loop() {
		b.StopTimer()
		evs := benchEvents(batch, base)
		b.StartTimer()
		start := time.Now()
		ps, err := s.PublishEvents(ctx, evs, opts)
		busy += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if ps[0].Deliveries != benchFanOut {
			b.Fatalf("fan-out %d, want %d", ps[0].Deliveries, benchFanOut)
		}
	}
	elapsed := busy.Seconds()
	b.ReportMetric(float64(b.N*batch)/elapsed, "events/s")
	b.ReportMetric(float64(b.N*batch*benchFanOut)/elapsed, "deliveries/s")
}

func benchClaimComplete(b *testing.B, s hookline.Store, batch int) {
	benchSetup(b, s)
	ctx := b.Context()
	now := base.Add(time.Hour)
	// Keep a backlog of at least one batch ahead, published outside the timer.
	refill := func() {
		b.StopTimer()
		for range 4 {
			if _, err := s.PublishEvents(ctx, benchEvents(max(batch, 64), base), hookline.PublishOptions{Now: base}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	refill()
	done := 0
	b.ResetTimer()
	start := time.Now()
	var paused time.Duration
	for b.Loop() {
		tasks, err := s.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "bench", Now: now, Lease: time.Minute, Limit: batch, MaxConcurrency: hookline.MaxMaxConcurrency})
		if err != nil {
			b.Fatal(err)
		}
		if len(tasks) < batch {
			p := time.Now()
			refill()
			paused += time.Since(p)
			more, err := s.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "bench", Now: now, Lease: time.Minute, Limit: batch - len(tasks), MaxConcurrency: hookline.MaxMaxConcurrency})
			if err != nil {
				b.Fatal(err)
			}
			tasks = append(tasks, more...)
		}
		cs := make([]hookline.Completion, len(tasks))
		for i, t := range tasks {
			cs[i] = succeeded(t, now)
		}
		if err := s.CompleteTasks(ctx, "bench", cs); err != nil {
			b.Fatal(err)
		}
		done += len(tasks)
	}
	elapsed := (time.Since(start) - paused).Seconds()
	b.ReportMetric(float64(done)/elapsed, "deliveries/s")
}
