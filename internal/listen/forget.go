package listen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// A device is forgotten when its developer says so (`hookline listen
// --forget`, DELETE /v1/listen/devices/{name}) or when it has been offline
// for longer than the server's retention: a laptop's name that is never
// used again would otherwise stay an endpoint, with deliveries waiting for
// it, forever.

// seenPrefix names the setting that keeps when a device was last seen
// (Unix seconds): its listen starting, connecting or disconnecting, and
// every seenEvery while it stays connected.
const seenPrefix = "listen.seen."

// seenEvery is how often a long-connected device is marked seen, so that a
// session longer than the retention (or held by another node) does not
// read as offline.
const seenEvery = 10 * time.Minute

// CloseForgotten is the websocket close code sent to a device's connection
// when the device is forgotten: `hookline listen` stops instead of
// reconnecting, which would make the device again.
const CloseForgotten = 4002

// touch records that the device is seen now. Losing it only makes the
// device look idle longer, so a failure is logged, not returned.
func (h *Hub) touch(ctx context.Context, name string) {
	if err := h.cfg.Store.SetSetting(ctx, seenPrefix+name, strconv.FormatInt(time.Now().Unix(), 10)); err != nil {
		h.cfg.Logger.Warn("marking listen device seen", "device", name, "err", err)
	}
}

// lastSeen is when the device was last seen; for a device made before
// this was recorded, when its endpoint last changed.
func (h *Hub) lastSeen(ctx context.Context, name string, ep *hookline.Endpoint) time.Time {
	v, err := h.cfg.Store.Setting(ctx, seenPrefix+name)
	if err == nil {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(s, 0)
		}
	}
	return ep.Updated
}

// Forget removes the named device: its endpoint, with the deliveries that
// wait for it, and its name, and disconnects it with CloseForgotten. The
// next `hookline listen --name` with that name makes a new device with a
// new secret. ENOTFOUND when there is no such device.
func (h *Hub) Forget(ctx context.Context, name string) (*hookline.Endpoint, error) {
	ep, s, err := h.forget(ctx, name)
	if err != nil {
		return nil, err
	}
	if s != nil {
		// Outside h.mu: the close waits for the device's answer.
		s.shut(CloseForgotten, "hookline listen --forget "+name)
	}
	h.cfg.Logger.Info("listen device forgotten", "device", name, "endpoint", ep.ID)
	return ep, nil
}

// forget removes the device's endpoint and name and takes its session out
// of the hub, returning it for the caller to close.
func (h *Hub) forget(ctx context.Context, name string) (*hookline.Endpoint, *session, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ep, err := h.lookup(ctx, name)
	if err != nil {
		if hookline.ErrorCode(err) == hookline.ENOTFOUND {
			return nil, nil, hookline.NotFound("listen device", name)
		}
		return nil, nil, err
	}
	if err := h.cfg.Store.DeleteEndpoint(ctx, ep.ID); err != nil && hookline.ErrorCode(err) != hookline.ENOTFOUND {
		return nil, nil, fmt.Errorf("forgetting listen device %s: %w", name, err)
	}
	// The store has no way to delete a setting; an empty one names no
	// endpoint, which lookup reads as no device.
	if err := h.cfg.Store.SetSetting(ctx, settingPrefix+name, ""); err != nil {
		return nil, nil, fmt.Errorf("forgetting listen device %s: %w", name, err)
	}
	s := h.sessions[name]
	delete(h.sessions, name)
	return ep, s, nil
}

// ForgetOffline forgets every device neither connected here nor recently
// announced by another node, and not seen since cutoff, and returns how
// many it forgot. The server runs it with its retention purge.
func (h *Hub) ForgetOffline(ctx context.Context, cutoff time.Time) (int, error) {
	var stale []string
	page := hookline.Page{Limit: 100}
	for {
		eps, more, err := h.cfg.Store.ListEndpoints(ctx, hookline.EndpointFilter{Page: page})
		if err != nil {
			return 0, fmt.Errorf("listing listen devices: %w", err)
		}
		for _, ep := range eps {
			name, ok := strings.CutPrefix(ep.URL, URLScheme+"://")
			if !ok || h.Connected(name) || h.heldElsewhere(name) {
				continue
			}
			if h.lastSeen(ctx, name, ep).Before(cutoff) {
				stale = append(stale, name)
			}
		}
		if !more || len(eps) == 0 {
			break
		}
		page.StartingAfter = eps[len(eps)-1].ID
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
