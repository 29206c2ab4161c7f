package listen

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httperr"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// TestPeers: two hubs sharing a store and a notification bus (as two nodes
// share PostgreSQL and its NOTIFY). A device connected to hub A makes hub B
// defer its deliveries by RemoteDefer and wakes A's engine once they are
// due; after the device leaves, and on a hub without peers, deliveries wait
// OfflineDefer as before.
func TestPeers(t *testing.T) {
	t.Parallel()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "hookline.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })

	wakes := make(chan time.Time, 16)
	a := NewHub(Config{})
	a.Use(app.New(app.Config{Store: store, OnWake: func() {
		select {
		case wakes <- time.Now():
		default:
		}
	}}))
	b, alone := NewHub(Config{}), NewHub(Config{})
	b.Use(app.New(app.Config{Store: store}))
	alone.Use(app.New(app.Config{Store: store}))
	t.Cleanup(func() { a.Close(); b.Close(); alone.Close() })
	// The bus delivers every message to every hub, the sender included, as
	// NOTIFY does.
	bus := func(payload string) { a.Peer(payload); b.Peer(payload) }
	a.JoinPeers(bus)
	b.JoinPeers(bus)

	ep, err := a.Device(t.Context(), "laptop", DeviceSettings{})
	if err != nil {
		t.Fatal(err)
	}
	task := &hookline.Task{DeliveryID: "dlv_1", Attempt: 1, Endpoint: ep, Event: &hookline.Event{ID: "evt_1", Type: "a.b"}}
	deferOf := func(h *Hub) time.Duration {
		return h.Send(t.Context(), task, time.Now(), time.Now().Add(time.Minute)).Defer
	}

	if d := deferOf(b); d != OfflineDefer {
		t.Fatalf("before the device connects anywhere, B defers by %s, want %s", d, OfflineDefer)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /connect/{name}", httperr.Handler(slog.New(slog.DiscardHandler), a.ServeConnect))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	conn, _, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/connect/laptop", nil)
	if err != nil {
		t.Fatalf("connecting the device: %v", err)
	}
	waitUntil(t, "A to hold the device", func() bool { return a.Connected("laptop") })
	drain(wakes) // the connect's own wake

	// B learns that A holds the device, defers briefly, and A is woken
	// once the delivery is due.
	waitUntil(t, "B to hear that A holds the device", func() bool { return deferOf(b) == RemoteDefer })
	// Let the wake-ups those asks scheduled pass, and the window in which
	// B asks only once.
	time.Sleep(RemoteDefer + peerWantEvery + peerWakeSlack + 100*time.Millisecond)
	drain(wakes)
	sent := time.Now()
	if d := deferOf(b); d != RemoteDefer {
		t.Fatalf("B defers by %s, want %s", d, RemoteDefer)
	}
	select {
	case at := <-wakes:
		if at.Sub(sent) < RemoteDefer {
			t.Fatalf("A woke %s after B deferred, before the delivery was due (%s)", at.Sub(sent), RemoteDefer)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("A's engine was not woken for the deferred delivery")
	}
	if d := deferOf(alone); d != OfflineDefer {
		t.Fatalf("a hub without peers defers by %s, want %s", d, OfflineDefer)
	}

	// The device leaves: B goes back to OfflineDefer.
	conn.Close(websocket.StatusNormalClosure, "")
	waitUntil(t, "B to hear that the device left", func() bool { return deferOf(b) == OfflineDefer })
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func drain(c chan time.Time) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}
