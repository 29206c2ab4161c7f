package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// benchStore returns a store with three endpoints subscribed to everything.
func benchStore(b *testing.B) *Store {
	s := open(b, Options{})
	for i := range 3 {
		err := s.CreateEndpoint(b.Context(), &hookline.Endpoint{
			ID: fmt.Sprintf("ep_%d", i), URL: "https://example.test/hook", EnabledEvents: []string{"invoice.*"},
			Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard, Secret: "whsec_x",
			Created: t0, Updated: t0,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func benchBatch(n int) []*hookline.Event {
	batch := make([]*hookline.Event, n)
	for i := range batch {
		id := hookline.NewID("evt")
		batch[i] = &hookline.Event{ID: id, Type: "invoice.paid", Created: t0, Payload: []byte(`{"id":"` + id + `"}`),
			IdempotencyKey: id}
	}
	return batch
}

// BenchmarkPublish100 publishes batches of 100 events (with idempotency
// keys) that fan out to 3 endpoints each; one op is one batch.
func BenchmarkPublish100(b *testing.B) {
	s := benchStore(b)
	for b.Loop() {
		if _, err := s.PublishEvents(b.Context(), benchBatch(100), hookline.PublishOptions{Now: t0, IdempotencyWindow: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkClaimComplete100 claims 100 deliveries and completes them as
// successes; one op is one claim plus one completion.
func BenchmarkClaimComplete100(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	for range (b.N*100)/300 + 1 {
		if _, err := s.PublishEvents(ctx, benchBatch(100), hookline.PublishOptions{Now: t0}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		tasks, err := s.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "bench", Now: t0.Add(time.Second), Lease: time.Minute, Limit: 100, MaxConcurrency: hookline.MaxMaxConcurrency})
		if err != nil || len(tasks) == 0 {
			b.Fatalf("claimed %d tasks: %v", len(tasks), err)
		}
		cs := make([]hookline.Completion, len(tasks))
		for i, tk := range tasks {
			cs[i] = hookline.Completion{Status: hookline.DeliverySucceeded, Attempt: hookline.Attempt{
				DeliveryID: tk.DeliveryID, EventID: tk.Event.ID, EndpointID: tk.Endpoint.ID, Attempt: tk.Attempt,
				Created: t0.Add(time.Second), URL: tk.Endpoint.URL, ResponseStatus: 200, DurationMS: 3,
			}}
		}
		if err := s.CompleteTasks(ctx, "bench", cs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "deliveries/s")
}
