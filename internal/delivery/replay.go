package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/inbound"
)

// ReplayTimeout bounds one replayed send.
const ReplayTimeout = 30 * time.Second

// Replay is one replay of a captured request: the copy's edits, where it
// goes, and what the replay needs to do its work. The API's
// POST /v1/requests/{id}/replay and the dashboard's replay buttons both
// fill one in and call Run, so the two cannot drift apart.
type Replay struct {
	// Method, when not empty, replaces the captured request's method.
	Method string
	// Headers, when not nil, replace all of the captured request's headers.
	Headers map[string][]string
	// Body, when not nil, replaces the captured request's body.
	Body *[]byte

	// URL sends the copy to this http(s) URL alone. ConnectionID sends it
	// to one connection of the request's source. With neither, it goes to
	// the source's connections whose filters take the (edited) copy.
	URL          string
	ConnectionID string

	// RemoteAddr is recorded as the copy's remote address: who replayed it.
	RemoteAddr string
	// OwnerPrefix names the replayer in the lease taken on the copy's
	// deliveries while they are sent, e.g. "replay".
	OwnerPrefix string
	// Now is the copy's received time and its attempts' created time.
	Now time.Time

	Store hookline.Store
	// Sender sends the http(s) deliveries (a ForwardSender).
	Sender Sender
	// Engine is woken when deliveries are handed to it; may be nil.
	Engine *Engine
	// CheckURL applies the caller's rules for a URL to send to (SSRF
	// protection outside --dev); it returns a hookline.Error.
	CheckURL func(raw string) error
	// Logger hears of connection filters that do not parse.
	Logger *slog.Logger
}

// ReplaySend is what became of the copy's delivery to one target.
type ReplaySend struct {
	DeliveryID string
	URL        string
	// Attempt is the recorded send; nil when the delivery was handed to
	// the engine (listen:// and other non-HTTP transports).
	Attempt *hookline.Attempt
	// Err is why the send got no answer, when it did not (also in
	// Attempt.Error).
	Err error
}

// ReplayResult is a replay done: the stored copy and its sends, in the
// order of its deliveries.
type ReplayResult struct {
	Request *hookline.InboundRequest
	Sends   []ReplaySend
}

// Run stores a copy of orig, with rp's edits, as a request with status
// replay, and sends it now: each http(s) target gets one try, recorded as
// an ordinary attempt of the copy's delivery (failed if it failed: a
// replay is one try; replay again to retry), so it shows up like any
// other; the other targets are handed to the engine. The deliveries are
// leased while they are sent, so the engine leaves them alone.
//
// It returns a hookline.Error EINVALID when the targets are not valid
// (both a URL and a connection, a URL CheckURL refuses, no body for a
// request kept only in part, a connection of
// another source, or no connection that takes the copy), ENOTFOUND for an
// unknown connection, and the store's errors.
func (rp *Replay) Run(ctx context.Context, orig *hookline.InboundRequest) (*ReplayResult, error) {
	now := rp.Now
	cp := *orig
	cp.ID, cp.Status, cp.Reason, cp.ReplayOf, cp.Received, cp.DedupeKey = hookline.NewID("req"), hookline.RequestReplay, "", orig.ID, now, ""
	cp.RemoteAddr = rp.RemoteAddr
	if rp.Method != "" {
		cp.Method = rp.Method
	}
	if rp.Headers != nil {
		cp.Headers = rp.Headers
	}
	if rp.Body != nil {
		cp.Body = *rp.Body
	} else if orig.Size > int64(len(orig.Body)) {
		return nil, hookline.Invalid("body", "only the first %d bytes of this rejected request's %d were kept; give the body to replay it",
			len(orig.Body), orig.Size)
	}
	cp.Size, cp.BodySHA256 = int64(len(cp.Body)), ""
	var targets []string
	switch {
	case rp.URL != "" && rp.ConnectionID != "":
		return nil, hookline.Invalid("url", "give url or connection_id, not both")
	case rp.URL != "":
		if err := rp.CheckURL(rp.URL); err != nil {
			return nil, err
		}
		targets = []string{""} // the store's delivery to a URL alone
	case rp.ConnectionID != "":
		c, err := rp.Store.Connection(ctx, rp.ConnectionID)
		if err != nil {
			return nil, err
		}
		if c.SourceID != orig.SourceID {
			return nil, hookline.Invalid("connection_id", "connection %s is not one of the request's source's", c.ID)
		}
		targets = []string{c.ID}
	default:
		in := &inbound.Input{Method: cp.Method, Path: cp.Path, Query: cp.Query, Header: http.Header(cp.Headers), Body: cp.Body}
		var err error
		if targets, err = inbound.MatchingConnections(ctx, rp.Store, rp.Logger, orig.SourceID, in); err != nil {
			return nil, err
		}
		if len(targets) == 0 {
			return nil, hookline.Invalid("url", "the request's source has no connection that takes it; give a url")
		}
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	owner := rp.OwnerPrefix + "_" + hex.EncodeToString(b[:])
	res, err := rp.Store.CaptureRequest(ctx, &cp, hookline.CaptureOptions{
		ConnectionIDs: targets, Now: now, LeaseOwner: owner, LeaseExpires: now.Add(ReplayTimeout + time.Minute)})
	if err != nil {
		return nil, err
	}
	out := &ReplayResult{Request: &cp, Sends: make([]ReplaySend, 0, len(res.Tasks))}
	var completions []hookline.Completion
	var release []string
	for _, t := range res.Tasks {
		if t.Endpoint.ID == "" {
			t.Endpoint.URL = rp.URL
		}
		if !strings.HasPrefix(t.Endpoint.URL, "http://") && !strings.HasPrefix(t.Endpoint.URL, "https://") {
			release = append(release, t.DeliveryID) // listen:// and the like: the engine's transports
			out.Sends = append(out.Sends, ReplaySend{DeliveryID: t.DeliveryID, URL: t.Endpoint.URL})
			continue
		}
		start := time.Now()
		resp := rp.Sender.Send(ctx, t, now, start.Add(ReplayTimeout))
		a := hookline.Attempt{ID: hookline.NewID("atm"), DeliveryID: t.DeliveryID, EventID: cp.ID, EndpointID: t.Endpoint.ID,
			Attempt: 1, Created: now, URL: t.Endpoint.URL, ResponseStatus: resp.Status,
			DurationMS: time.Since(start).Milliseconds(), ResponseBody: resp.Body}
		c := hookline.Completion{Status: hookline.DeliverySucceeded}
		if resp.Err != nil {
			a.Error, a.ErrorKind = resp.Err.Error(), ErrorKind(resp.Err)
		} else if !a.Succeeded() {
			a.Error = fmt.Sprintf("HTTP %d", resp.Status)
		}
		if !a.Succeeded() {
			c.Status = hookline.DeliveryFailed // a replay is one try; replay again to retry
		}
		c.Attempt = a
		completions = append(completions, c)
		out.Sends = append(out.Sends, ReplaySend{DeliveryID: t.DeliveryID, URL: t.Endpoint.URL, Attempt: &a, Err: resp.Err})
	}
	// Recorded even when the caller has gone: the sends happened.
	wctx := context.WithoutCancel(ctx)
	if err := rp.Store.CompleteTasks(wctx, owner, completions); err != nil {
		return nil, err
	}
	if len(release) > 0 {
		if err := rp.Store.ReleaseTasks(wctx, owner, release, now); err != nil {
			return nil, err
		}
		if rp.Engine != nil {
			rp.Engine.Wake()
		}
	}
	return out, nil
}
