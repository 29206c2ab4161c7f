package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Seeder fills a store with n old events, each with one finished delivery
// and one attempt, straight in SQL (the API would take hours for millions).
type Seeder func(ctx context.Context, n int) error

// PublishAtScale measures publishing (batches of 32, leased at publish, as
// a node does) and claiming then completing, first on s empty and then
// after seed has stored n old events, and reports both rates for each. It
// is how "publish stays fast at tens of millions of rows" is checked.
func PublishAtScale(b *testing.B, s hookline.Store, seed Seeder, n int) {
	benchSetup(b, s)
	ctx := b.Context()
	measure := func(label string) {
		const batch, rounds = 32, 200
		now := time.Now()
		opts := hookline.PublishOptions{Now: now, IdempotencyWindow: 24 * time.Hour, LeaseOwner: "bench", LeaseExpires: now.Add(time.Minute)}
		var busy time.Duration
		for range rounds {
			evs := benchEvents(batch, now)
			start := time.Now()
			if _, err := s.PublishEvents(ctx, evs, opts); err != nil {
				b.Fatal(err)
			}
			busy += time.Since(start)
		}
		pubRate := float64(batch*rounds) / busy.Seconds()

		// A backlog published unleased, then claimed and completed.
		for range 20 {
			if _, err := s.PublishEvents(ctx, benchEvents(64, now), hookline.PublishOptions{Now: now}); err != nil {
				b.Fatal(err)
			}
		}
		done := 0
		start := time.Now()
		for {
			tasks, err := s.ClaimTasks(ctx, hookline.ClaimRequest{Owner: "bench2", Now: now.Add(time.Second), Lease: time.Minute, Limit: 128, MaxConcurrency: hookline.MaxMaxConcurrency})
			if err != nil {
				b.Fatal(err)
			}
			if len(tasks) == 0 {
				break
			}
			cs := make([]hookline.Completion, len(tasks))
			for i, t := range tasks {
				cs[i] = succeeded(t, now)
			}
			if err := s.CompleteTasks(ctx, "bench2", cs); err != nil {
				b.Fatal(err)
			}
			done += len(tasks)
		}
		claimRate := float64(done) / time.Since(start).Seconds()
		b.ReportMetric(pubRate, label+"_publish_events/s")
		b.ReportMetric(claimRate, label+"_claim_complete/s")
		b.Logf("%s: publish %.0f events/s (batches of %d, leased), claim+complete %.0f deliveries/s", label, pubRate, batch, claimRate)
	}
	for b.Loop() {
		measure("warmup") // connections, prepared statements and caches
		measure("empty")
		start := time.Now()
		if err := seed(ctx, n); err != nil {
			b.Fatalf("seeding %d events: %v", n, err)
		}
		b.Logf("seeded %d events (+ a delivery and an attempt each) in %s", n, time.Since(start).Round(time.Millisecond))
		measure("seeded")
	}
}
