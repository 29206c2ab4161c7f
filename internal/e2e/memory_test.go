package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// BenchmarkBacklogMemory measures the server's memory with a large backlog
// waiting: events stored for an endpoint that refuses connections, so every
// delivery stays pending. It reports peak RSS with the backlog next to peak
// RSS of the same server with an empty store. Run it with
//
//	HOOKLINE_BACKLOG=1000000 go test ./internal/e2e -run '^$' -bench BacklogMemory -benchtime 1x -timeout 30m
func BenchmarkBacklogMemory(b *testing.B) {
	events := 100_000
	if v := os.Getenv("HOOKLINE_BACKLOG"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("HOOKLINE_BACKLOG=%q: %v", v, err)
		}
		events = n
	}
	for range b.N {
		empty := b.TempDir()
		full := b.TempDir()
		seedBacklog(b, full, events)

		emptyRSS := peakRSS(b, empty, 10*time.Second)
		fullRSS := peakRSS(b, full, 10*time.Second)
		b.ReportMetric(float64(events), "events_waiting")
		b.ReportMetric(emptyRSS, "empty_peak_MB")
		b.ReportMetric(fullRSS, "backlog_peak_MB")
		b.ReportMetric(fullRSS/emptyRSS, "ratio")
		b.Logf("%d events waiting: peak RSS %.1f MB; empty store: %.1f MB (%.2f×)", events, fullRSS, emptyRSS, fullRSS/emptyRSS)
	}
}

// seedBacklog stores events for one endpoint that nobody listens on.
func seedBacklog(b *testing.B, dir string, events int) {
	ctx := context.Background()
	st, err := sqlite.OpenWith(ctx, filepath.Join(dir, "hookline.db"), sqlite.Options{Synchronous: sqlite.SyncNormal})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	ep := &hookline.Endpoint{ID: hookline.NewID("ep"), URL: "http://127.0.0.1:9/down", EnabledEvents: []string{"*"},
		Metadata: map[string]string{}, Status: hookline.EndpointEnabled, SignatureScheme: hookline.SchemeStandard,
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Created: now, Updated: now}
	if err := st.CreateEndpoint(ctx, ep); err != nil {
		b.Fatal(err)
	}
	const batch = 1000
	for i := 0; i < events; i += batch {
		evs := make([]*hookline.Event, 0, batch)
		for j := i; j < min(i+batch, events); j++ {
			id := hookline.NewID("evt")
			data, _ := json.Marshal(map[string]any{"n": j, "pad": strings.Repeat("x", 100)})
			p, _ := hookline.NewEventPayload(id, "backlog.test", now, "", data)
			evs = append(evs, &hookline.Event{ID: id, Type: "backlog.test", Created: now.Truncate(time.Second), Payload: p})
		}
		if _, err := st.PublishEvents(ctx, evs, hookline.PublishOptions{Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}

// peakRSS runs a node on dir for d and returns its peak resident memory in MB.
func peakRSS(b *testing.B, dir string, d time.Duration) float64 {
	n := &node{t: b, DataDir: dir, args: []string{"--dev", "--log-level", "error", "--retry-schedule", "1s"}}
	n.start()
	defer n.kill()
	time.Sleep(d)
	return n.peakRSS()
}

// peakRSS returns the node's peak resident memory so far in MB.
func (n *node) peakRSS() float64 {
	n.t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		n.t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	n.t.Fatal("no VmHWM in /proc status")
	return 0
}
