package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/pgtest"
)

// Of many nodes claiming a job's run at once, one wins; the next period is
// claimable again, by anyone.
func TestClaimRunOnceAcrossNodes(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	nodes := []*Store{openDSN(t, dsn, Options{}), openDSN(t, dsn, Options{}), openDSN(t, dsn, Options{})}
	for period := range 3 {
		now := t0.Add(time.Duration(period) * time.Minute)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i, s := range nodes {
			for j := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := s.ClaimRun(t.Context(), "retention", "node-"+string(rune('a'+i))+string(rune('0'+j)), now, time.Minute)
					if err != nil {
						t.Errorf("ClaimRun: %v", err)
					}
					if ok {
						wins.Add(1)
					}
				}()
			}
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("period %d: %d claims won, want 1", period, wins.Load())
		}
		// Within the period nobody else gets it.
		if ok, _ := nodes[0].ClaimRun(t.Context(), "retention", "late", now.Add(30*time.Second), time.Minute); ok {
			t.Errorf("period %d: a claim 30 s into the period won", period)
		}
	}
	// Jobs are independent.
	if ok, err := nodes[1].ClaimRun(t.Context(), "disable-failing", "node-b", t0, time.Minute); !ok || err != nil {
		t.Errorf("first claim of another job: %v, %v", ok, err)
	}
}

// A notification sent through one node reaches a listener on another.
func TestNotifyAcrossNodes(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	a, b := openDSN(t, dsn, Options{}), openDSN(t, dsn, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan string, 4)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- b.Listen(ctx, "hookline_wake", func() { close(ready) }, func(p string) { got <- p }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Listen: %v", err)
	}
	if err := a.Notify(t.Context(), "hookline_wake", "node_a"); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	select {
	case p := <-got:
		if p != "node_a" {
			t.Errorf("payload %q, want node_a", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the notification did not cross nodes")
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Listen returned %v after cancel, want context.Canceled", err)
	}
}
