package listen

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// Requests that queue while the gate gathers, or while it is held, go
// through smallest key first, one at a time.
func TestGateOrdersWaiters(t *testing.T) {
	t.Parallel()
	var g gate
	var (
		mu    sync.Mutex
		order []string
		wg    sync.WaitGroup
		inUse int
	)
	keys := []string{"evt_05", "evt_02", "evt_09", "evt_01", "evt_07", "evt_03"}
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.acquire(context.Background(), k); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inUse++
			if inUse != 1 {
				t.Errorf("%d holders at once", inUse)
			}
			order = append(order, k)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			inUse--
			mu.Unlock()
			g.release()
		}()
	}
	wg.Wait()
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
}

// A waiter that gives up leaves the gate usable.
func TestGateCanceledWaiter(t *testing.T) {
	t.Parallel()
	var g gate
	if err := g.acquire(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.acquire(ctx, "b"); err == nil {
		t.Fatal("acquired a held gate")
	}
	g.release()
	for i := range 3 {
		if err := g.acquire(context.Background(), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		g.release()
	}
}
