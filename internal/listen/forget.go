package listen

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// A device is forgotten when its developer says so (`hookline listen
// --forget`, DELETE /v1/listen/devices/{name}) or when it has been offline
// for longer than the server's retention: a laptop's name that is never
// used again would otherwise stay an endpoint, with deliveries waiting for
// it, forever.

// seenEvery is how often a long-connected device is marked seen, so that a
// session longer than the retention (or held by another node) does not
// read as offline.
const seenEvery = 10 * time.Minute

// CloseForgotten is the websocket close code sent to a device's connection
// when the device is forgotten: `hookline listen` stops instead of
// reconnecting, which would make the device again.
const CloseForgotten = 4002

// Forget removes the named device (app.ForgetListenDevice) and disconnects
// it with CloseForgotten. ENOTFOUND when there is no such device.
func (h *Hub) Forget(ctx context.Context, name string) (*hookline.Endpoint, error) {
	ep, s, err := h.forget(ctx, name)
	if err != nil {
		return nil, err
	}
	if s != nil {
		// Outside h.mu: the close waits for the device's answer.
		s.shut(CloseForgotten, "hookline listen --forget "+name)
	}
	return ep, nil
}

// forget removes the device's endpoint and name and takes its session out
// of the hub, returning it for the caller to close.
func (h *Hub) forget(ctx context.Context, name string) (*hookline.Endpoint, *session, error) {
	a, err := h.devices()
	if err != nil {
		return nil, nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ep, err := a.ForgetListenDevice(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	s := h.sessions[name]
	delete(h.sessions, name)
	return ep, s, nil
}

// ForgetOffline forgets every device neither connected here nor recently
// announced by another node, and not seen since cutoff
// (app.IdleListenDevices), and returns how many it forgot. The server runs
// it with its retention purge.
func (h *Hub) ForgetOffline(ctx context.Context, cutoff time.Time) (int, error) {
	a, err := h.devices()
	if err != nil {
		return 0, err
	}
	stale, err := a.IdleListenDevices(ctx, cutoff, func(name string) bool { return h.Connected(name) || h.heldElsewhere(name) })
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range stale {
		if _, err := h.Forget(ctx, name); err != nil && hookline.ErrorCode(err) != hookline.ENOTFOUND {
			return n, err
		}
		n++
	}
	return n, nil
}

// heldElsewhere reports whether another node said lately that it holds
// the device.
func (h *Hub) heldElsewhere(name string) bool {
	p := h.peers.Load()
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	at, ok := p.held[name]
	return ok && time.Since(at) < peerHeldTTL
}

// ServeForget answers DELETE /v1/listen/devices/{name}: 200 with the
// device as it was, or 404.
func (h *Hub) ServeForget(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	ep, err := h.Forget(r.Context(), name)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]any{"name": name, "endpoint_id": ep.ID, "forgotten": true})
}
