package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// An event answered 201 is delivered even if the server is killed with
// SIGKILL while it publishes and delivers, then restarted on the same data.
func TestCrashLosesNothing(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev", "--retry-schedule", "200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms")
	rc := newReceiver(t)
	var mu sync.Mutex
	delivered := map[string]bool{}
	rc.respond = func(i int, r *http.Request) (int, http.Header) {
		if i%5 == 0 { // some first attempts fail, so retries are pending at the kill
			return 500, nil
		}
		mu.Lock()
		delivered[r.Header.Get("webhook-id")] = true
		mu.Unlock()
		return 200, nil
	}
	n.createEndpoint(map[string]any{"url": rc.URL})

	var (
		accepted sync.Map
		count    atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				body := fmt.Sprintf(`{"type":"crash.test","data":{"w":%d,"i":%d}}`, w, i)
				req, _ := http.NewRequest("POST", n.URL+"/v1/events", bytes.NewBufferString(body))
				req.Header.Set("Authorization", "Bearer "+testAPIKey)
				resp, err := client.Do(req)
				if err != nil {
					time.Sleep(5 * time.Millisecond) // the server is down: not accepted
					continue
				}
				var e event
				if resp.StatusCode == 201 && json.NewDecoder(resp.Body).Decode(&e) == nil {
					accepted.Store(e.ID, true)
					count.Add(1)
				}
				resp.Body.Close()
			}
		}()
	}
	waitFor(t, 15*time.Second, "some traffic", func() bool { return count.Load() > 300 && rc.count() > 100 })
	n.kill()
	killedAt := count.Load()
	time.Sleep(100 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	n.restart()
	total := 0
	accepted.Range(func(any, any) bool { total++; return true })
	t.Logf("%d events accepted before the kill, %d delivered by then", killedAt, len(delivered))
	waitFor(t, 60*time.Second, "every accepted event to be delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		missing := 0
		accepted.Range(func(k, _ any) bool {
			if !delivered[k.(string)] {
				missing++
			}
			return true
		})
		return missing == 0
	})
	if total == 0 {
		t.Fatal("no event was accepted")
	}
}
