package listen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
)

// DevSchedule is the delay before each retry of a listen delivery whose
// local app failed, unless the app sent Retry-After: short, because a
// developer is watching and fixing the handler. It has as many steps as the
// engine's default schedule so that the engine gives up at the same count.
var DevSchedule = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
}

// OfflineDefer is how long a delivery to an offline device waits before it
// is looked at again; it is also the most a backlog waits once the device
// connects.
const OfflineDefer = time.Second

// Config configures a Hub.
type Config struct {
	// Signer signs deliveries exactly as HTTP endpoints get them.
	Signer *delivery.HTTPSender
	Logger *slog.Logger
}

// Hub holds the connected listen devices. It is the delivery.Sender of the
// listen scheme. Safe for concurrent use.
type Hub struct {
	cfg Config

	mu       sync.Mutex // guards sessions; also serializes device creation
	sessions map[string]*session
	closed   chan struct{}
	close    sync.Once
	seq      atomic.Uint64
	peers    atomic.Pointer[peers] // other nodes' hubs, when they share the database (peers.go)
	// app owns the devices' endpoints (app/devices.go); the hub, made
	// before the engine that the application layer wakes, gets it by Use.
	app atomic.Pointer[app.App]
}

var _ delivery.Sender = (*Hub)(nil)

// NewHub returns a hub with no devices connected.
func NewHub(cfg Config) *Hub {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{cfg: cfg, sessions: map[string]*session{}, closed: make(chan struct{})}
}

// Use hands the hub the application layer that owns the devices'
// endpoints. The server calls it before it serves the hub's routes and
// starts the engine.
func (h *Hub) Use(a *app.App) { h.app.Store(a) }

// devices is the application layer, or EUNAVAILABLE before Use.
func (h *Hub) devices() (*app.App, error) {
	a := h.app.Load()
	if a == nil {
		return nil, hookline.Errorf(hookline.EUNAVAILABLE, "the listen hub is starting")
	}
	return a, nil
}

// wake wakes the engine through the application layer, once there is one.
func (h *Hub) wake() {
	if a := h.app.Load(); a != nil {
		a.WakeEngine()
	}
}

// Close disconnects every device; the server calls it when it stops.
// Safe to call more than once.
func (h *Hub) Close() {
	h.close.Do(func() {
		close(h.closed)
		h.mu.Lock()
		ss := h.sessions
		h.sessions = map[string]*session{}
		h.mu.Unlock()
		// In parallel: each close waits for its device's answer.
		var wg sync.WaitGroup
		for _, s := range ss {
			wg.Go(func() { s.shut(websocket.StatusGoingAway, "server shutting down") })
		}
		wg.Wait()
	})
}

// DeviceSettings is what `hookline listen` asks of its device
// (app.DeviceSettings).
type DeviceSettings = app.DeviceSettings

// Device returns the endpoint of the named device, creating it on first
// use, and applies set to it (app.ListenDevice). The hub's lock serializes
// it with connections and forgetting.
func (h *Hub) Device(ctx context.Context, name string, set DeviceSettings) (*hookline.Endpoint, error) {
	a, err := h.devices()
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return a.ListenDevice(ctx, name, set)
}

// lookup finds a device's endpoint by name; ENOTFOUND when it has none.
func (h *Hub) lookup(ctx context.Context, name string) (*hookline.Endpoint, error) {
	a, err := h.devices()
	if err != nil {
		return nil, err
	}
	return a.ListenDeviceEndpoint(ctx, name)
}

// touch records that the device is seen now (app.ListenDeviceSeen).
func (h *Hub) touch(ctx context.Context, name string) {
	if a := h.app.Load(); a != nil {
		a.ListenDeviceSeen(ctx, name)
	}
}

// Connected reports whether the named device has a live connection here.
func (h *Hub) Connected(name string) bool { return h.session(name) != nil }

func (h *Hub) session(name string) *session {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[name]
}

// errNotSent means the delivery never reached the device.
var errNotSent = errors.New("not sent")

// Send delivers t to its device and returns what the local app answered. An
// offline device defers the delivery instead of failing it.
func (h *Hub) Send(ctx context.Context, t *hookline.Task, now, deadline time.Time) delivery.Response {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	name := strings.TrimPrefix(t.Endpoint.URL, app.ListenScheme+"://")
	s := h.session(name)
	if s == nil {
		return delivery.Response{Defer: h.offline(name)} // maybe connected to another node (peers.go)
	}
	var msg Message
	if t.Request != nil {
		// A source's captured request, forwarded as it arrived: never
		// signed with the device's secret.
		m, err := requestMessage(ctx, t)
		if err != nil {
			return delivery.Response{Err: err}
		}
		msg = m
	} else {
		hdr := http.Header{}
		hdr.Set("Content-Type", "application/json")
		hdr.Set("User-Agent", h.cfg.Signer.UserAgent)
		if err := h.cfg.Signer.SignHeaders(hdr, t.Endpoint.SignatureScheme, t.Event.ID, t.Event.Payload, now, t.Endpoint.Secrets(now)); err != nil {
			return delivery.Response{Err: err}
		}
		msg = Message{EventID: t.Event.ID, EventType: t.Event.Type, Tenant: t.Event.Tenant, Header: hdr, Body: t.Event.Payload}
	}
	msg.Type, msg.ID, msg.Attempt = TypeDeliver, "msg_"+strconv.FormatUint(h.seq.Add(1), 10), t.Attempt
	res, err := s.deliver(ctx, msg.EventID, msg)
	switch {
	case errors.Is(err, errNotSent):
		return delivery.Response{Defer: OfflineDefer}
	case err != nil:
		return delivery.Response{Err: err}
	}
	resp := delivery.Response{Status: res.Status, Body: res.Response, RetryAfter: res.RetryAfter}
	if res.Error != "" {
		resp.Err = delivery.RemoteError(res.ErrorKind, res.Error)
	}
	if (resp.Err != nil || res.Status < 200 || res.Status >= 300) && resp.RetryAfter == "" && t.Attempt <= len(DevSchedule) {
		// The engine honours Retry-After over its own schedule; this is how
		// listen deliveries get a development schedule without the engine
		// knowing about them.
		resp.RetryAfter = strconv.Itoa(int(DevSchedule[t.Attempt-1] / time.Second))
	}
	return resp
}

// session is one connected device.
type session struct {
	name    string
	conn    *websocket.Conn
	gate    gate
	done    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	waiting map[string]chan Message
}

// shut closes the connection with code, then marks the session done. The
// close frame goes first: done cancels the read loop's context, and a read
// canceled by its context drops the connection without one, so the device
// would see EOF rather than CloseReplaced or CloseForgotten and reconnect.
func (s *session) shut(code websocket.StatusCode, reason string) {
	s.once.Do(func() {
		_ = s.conn.Close(code, reason)
		close(s.done)
	})
}

// deliver sends msg and waits for its result. errNotSent means the device
// never got it (offline, or gone before the write), so the delivery can be
// deferred rather than counted as an attempt.
func (s *session) deliver(ctx context.Context, key string, msg Message) (Message, error) {
	if err := s.gate.acquire(ctx, key); err != nil {
		return Message{}, errNotSent
	}
	defer s.gate.release()
	select {
	case <-s.done:
		return Message{}, errNotSent
	default:
	}
	ch := make(chan Message, 1)
	s.mu.Lock()
	s.waiting[msg.ID] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiting, msg.ID)
		s.mu.Unlock()
	}()
	b, err := json.Marshal(msg)
	if err != nil {
		return Message{}, fmt.Errorf("encoding delivery: %w", err)
	}
	// Not ctx: a canceled write context closes the whole connection.
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = s.conn.Write(wctx, websocket.MessageText, b)
	cancel()
	if err != nil {
		s.shut(websocket.StatusInternalError, "write failed")
		return Message{}, errNotSent
	}
	select {
	case res := <-ch:
		return res, nil
	case <-s.done:
		return Message{}, errors.New("listen device disconnected before answering")
	case <-ctx.Done():
		return Message{}, errors.New("timed out waiting for the listen device's local app")
	}
}

// readLoop dispatches results until the connection ends.
func (s *session) readLoop(ctx context.Context) error {
	for {
		_, b, err := s.conn.Read(ctx)
		if err != nil {
			return err
		}
		var m Message
		if err := json.Unmarshal(b, &m); err != nil || m.Type != TypeResult {
			continue // a newer client's message we do not know: ignore it
		}
		s.mu.Lock()
		ch := s.waiting[m.ID]
		s.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
	}
}

// pingInterval keeps NATs and proxies from dropping an idle connection,
// and notices a device that vanished (a laptop closed mid-session).
const pingInterval = 20 * time.Second

// ServeConnect upgrades GET /v1/listen/devices/{name}/connect to the
// device's websocket and serves it until it ends. A newer connection with
// the same name replaces an older one.
func (h *Hub) ServeConnect(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if _, err := h.lookupLocked(r.Context(), name); err != nil {
		if hookline.ErrorCode(err) == hookline.ENOTFOUND {
			return hookline.NotFound("listen device", name)
		}
		return err
	}
	select {
	case <-h.closed:
		return hookline.Errorf(hookline.EUNAVAILABLE, "shutting down")
	default:
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return nil // Accept has answered the request
	}
	conn.SetReadLimit(1 << 20)
	s := &session{name: name, conn: conn, done: make(chan struct{}), waiting: map[string]chan Message{}}
	h.mu.Lock()
	old := h.sessions[name]
	h.sessions[name] = s
	h.mu.Unlock()
	if old != nil {
		old.shut(CloseReplaced, "another hookline listen --name "+name+" connected")
	}
	if a := h.app.Load(); a != nil {
		a.ListenDeviceConnected(r.Context(), name) // seen, and the engine woken for what waited
	}
	h.cfg.Logger.Info("listen device connected", "device", name, "remote", r.RemoteAddr)
	h.announce(peerHave, name)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		tick := time.NewTicker(pingInterval)
		defer tick.Stop()
		seen := time.NewTicker(seenEvery)
		defer seen.Stop()
		for {
			select {
			case <-s.done:
				cancel()
				return
			case <-h.closed:
				return
			case <-seen.C:
				h.touch(ctx, name)
			case <-tick.C:
				pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
				err := conn.Ping(pctx)
				pcancel()
				if err != nil {
					s.shut(websocket.StatusGoingAway, "no pong")
					return
				}
			}
		}
	}()
	err = s.readLoop(ctx)
	h.mu.Lock()
	if h.sessions[name] == s {
		delete(h.sessions, name)
	}
	h.mu.Unlock()
	s.shut(websocket.StatusNormalClosure, "")
	h.announce(peerGone, name)
	h.disconnected(name)
	h.cfg.Logger.Info("listen device disconnected", "device", name, "reason", err)
	return nil
}

// disconnected records that the device was seen as it left
// (app.ListenDeviceDisconnected), under h.mu as forget works, so that a
// --forget is either done before (the device is not marked) or after.
func (h *Hub) disconnected(name string) {
	a := h.app.Load()
	if a == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	a.ListenDeviceDisconnected(context.Background(), name)
}

func (h *Hub) lookupLocked(ctx context.Context, name string) (*hookline.Endpoint, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lookup(ctx, name)
}

// deviceParams is the body of POST /v1/listen/devices/{name}.
type deviceParams struct {
	EnabledEvents   []string `json:"enabled_events"`
	SignatureScheme string   `json:"signature_scheme"`
}

// ServeDevice answers POST /v1/listen/devices/{name}: the device, created
// on first use, with its secret.
func (h *Hub) ServeDevice(w http.ResponseWriter, r *http.Request) error {
	var p deviceParams
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return hookline.JSONError(err, "", &p)
	}
	name := r.PathValue("name")
	ep, err := h.Device(r.Context(), name, DeviceSettings{Events: p.EnabledEvents, Scheme: p.SignatureScheme})
	if err != nil {
		return err
	}
	d := Device{
		Name: name, EndpointID: ep.ID, URL: ep.URL, Secret: app.VerificationKey(ep.Secret), SignatureScheme: ep.SignatureScheme,
		EnabledEvents: ep.EnabledEvents, Connected: h.Connected(name),
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(d)
}
