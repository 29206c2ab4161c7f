package listen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/hookline/hookline/internal/client"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/webhook"
)

// This file is the device's end of the websocket, as `hookline listen`
// runs it: it keeps one connection to the server up, forwards each
// delivery to the local app and reports what the app answered. The CLI
// (internal/cli/listen.go) reads the flags, says where deliveries go
// (Route) and prints what happens (Display).

// ErrReplaced ends a DeviceClient when another one took the device over.
var ErrReplaced = errors.New("another hookline listen with the same --name connected; this one stops (use a different --name to run both)")

// ErrForgotten ends a DeviceClient when its device was removed (listen
// --forget), rather than reconnecting, which would make it again.
var ErrForgotten = errors.New("the device was forgotten (hookline listen --forget); this listen stops")

// Display is told what a DeviceClient does, for a person to see.
type Display interface {
	// Arrived is told of a delivery as it arrives: an event, or a request
	// captured at a source (m.SourceID set).
	Arrived(m Message)
	// Answered is told what the local app answered delivery m, sent with
	// method: res.Status, or res.Error when it did not answer.
	Answered(m, res Message, method string, d time.Duration)
	// Unrouted is told of a delivery Route gave no destination, which is
	// acknowledged without forwarding.
	Unrouted(m Message)
	// Note is a sentence about the connection or the device.
	Note(format string, args ...any)
}

// DeviceClient is one running `hookline listen`: a device's websocket
// session, kept up until its context ends.
type DeviceClient struct {
	// API is the server's API, with its key.
	API      *client.Client
	Name     string
	Settings DeviceSettings
	// Secret is the device's signing secret as last shown; a new one
	// (the server was reset) is noted.
	Secret string
	// Local sends to the local app.
	Local *http.Client
	// Route is where a delivery goes: a local URL, or "" to acknowledge it
	// without forwarding.
	Route func(m Message) string
	// Header is added to every forwarded request (--header).
	Header  http.Header
	Display Display
}

// EnsureDevice creates or fetches the named device on the server c talks
// to and sets what it subscribes to (POST /v1/listen/devices/{name}).
func EnsureDevice(ctx context.Context, c *client.Client, name string, set DeviceSettings) (*Device, error) {
	var d Device
	body := map[string]any{"enabled_events": set.Events}
	if set.Scheme != "" {
		body["signature_scheme"] = set.Scheme
	}
	if err := c.JSON(ctx, http.MethodPost, "/v1/listen/devices/"+url.PathEscape(name), nil, body, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Run connects, serves, and reconnects with backoff until ctx ends (nil)
// or the device is taken over (ErrReplaced) or forgotten (ErrForgotten).
func (dc *DeviceClient) Run(ctx context.Context) error {
	backoff := 250 * time.Millisecond
	var lostAt time.Time
	for {
		err := dc.session(ctx, func() {
			if !lostAt.IsZero() {
				dc.Display.Note("Reconnected after %s", time.Since(lostAt).Round(100*time.Millisecond))
				lostAt = time.Time{}
			}
			backoff = 250 * time.Millisecond
		})
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrReplaced) || errors.Is(err, ErrForgotten) {
			return err
		}
		if lostAt.IsZero() {
			lostAt = time.Now()
			dc.Display.Note("Lost the connection to %s (%v); reconnecting…", dc.API.BaseURL, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// session serves one websocket connection until it fails.
func (dc *DeviceClient) session(ctx context.Context, connected func()) error {
	// The device is fetched again on every connection: the server may have
	// been reset, and a changed secret must be shown.
	dev, err := EnsureDevice(ctx, dc.API, dc.Name, dc.Settings)
	if err != nil {
		return err
	}
	if dev.Secret != dc.Secret {
		dc.Secret = dev.Secret
		dc.Display.Note("The device's %s is now %s", KeyNoun(dev.Secret), dev.Secret)
	}
	wsURL := "ws" + strings.TrimPrefix(dc.API.BaseURL, "http") + "/v1/listen/devices/" + url.PathEscape(dc.Name) + "/connect"
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, _, err := websocket.Dial(dctx, wsURL, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + dc.API.APIKey}},
	})
	cancel()
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(64 << 20)
	connected()

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	// Ping so that a connection that died while the laptop slept is noticed
	// in seconds, not when the OS gives up on it.
	go func() {
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-tick.C:
				pctx, pcancel := context.WithTimeout(sctx, 8*time.Second)
				err := conn.Ping(pctx)
				pcancel()
				if err != nil {
					conn.CloseNow()
					return
				}
			}
		}
	}()
	for {
		_, b, err := conn.Read(sctx)
		if err != nil {
			if ctx.Err() != nil {
				conn.Close(websocket.StatusNormalClosure, "listen stopped")
				return nil
			}
			switch websocket.CloseStatus(err) {
			case CloseReplaced:
				return ErrReplaced
			case CloseForgotten:
				return ErrForgotten
			}
			return err
		}
		var m Message
		if err := json.Unmarshal(b, &m); err != nil || m.Type != TypeDeliver {
			continue
		}
		// Forward outside the read loop, so pings keep being answered
		// while a slow local app works.
		go func() {
			res := dc.forward(sctx, m)
			rb, _ := json.Marshal(res) // plain struct: cannot fail
			wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer wcancel()
			_ = conn.Write(wctx, websocket.MessageText, rb)
		}()
	}
}

// forward sends one delivery to the local app and reports what it said.
// An event is POSTed as the server signed it; a captured request is
// replayed exactly as the server built it: same method, headers and body
// bytes, the provider's query appended to the local URL's, nothing signed,
// so the app checks the provider's own signature (Stripe's, GitHub's…) as
// in production.
func (dc *DeviceClient) forward(ctx context.Context, m Message) Message {
	dc.Display.Arrived(m)
	dest := dc.Route(m)
	res := Message{Type: TypeResult, ID: m.ID, URL: dest}
	if dest == "" {
		// Nothing to deliver to, which is the developer's choice (only
		// routes were given, and none matched), not a failure.
		res.Status = http.StatusNoContent
		dc.Display.Unrouted(m)
		return res
	}
	var req *http.Request
	var err error
	if m.SourceID != "" {
		// The server built m.Header with this same function (hop-by-hop
		// headers dropped, X-Hookline-Request-Id and X-Hookline-Source
		// added), so running it again changes no header; it appends the
		// query to the local URL exactly as to an HTTP connection's.
		req, err = delivery.ForwardRequest(ctx, dest, &hookline.InboundRequest{
			ID: m.EventID, SourceID: m.SourceID, Method: m.Method, Query: m.Query, Headers: m.Header, Body: m.Body,
		})
		if err != nil {
			res.Error, res.ErrorKind = err.Error(), hookline.AttemptErrorOther
			dc.Display.Answered(m, res, m.Method, 0)
			return res
		}
		res.URL = req.URL.String()
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, dest, bytes.NewReader(m.Body))
		if err != nil {
			res.Error, res.ErrorKind = err.Error(), hookline.AttemptErrorOther
			return res
		}
		for k, v := range m.Header {
			req.Header[k] = v
		}
	}
	for k, v := range dc.Header {
		req.Header[k] = v
	}
	return dc.do(req, m, res)
}

// do sends req, built for delivery m, to the local app, shows the answer
// and fills in res with it.
func (dc *DeviceClient) do(req *http.Request, m, res Message) Message {
	start := time.Now()
	resp, err := dc.Local.Do(req)
	d := time.Since(start)
	res.DurationMS = d.Milliseconds()
	if err != nil {
		res.Error, res.ErrorKind = describeForwardError(err), delivery.ErrorKind(err)
		dc.Display.Answered(m, res, req.Method, d)
		return res
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	res.Status, res.Response, res.RetryAfter = resp.StatusCode, string(body), resp.Header.Get("Retry-After")
	dc.Display.Answered(m, res, req.Method, d)
	return res
}

func describeForwardError(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "the local app did not answer within 14 s"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// KeyNoun names what a receiver verifies a device's or endpoint's
// signatures with, as output says it: an ed25519 endpoint shows its public
// key, any other its signing secret.
func KeyNoun(key string) string {
	if strings.HasPrefix(key, webhook.PublicKeyPrefix) {
		return "public key"
	}
	return "signing secret"
}
