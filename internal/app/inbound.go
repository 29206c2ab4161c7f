package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/inbound"
)

// SourceParams are the fields creating and updating a source take; nil
// means absent.
type SourceParams struct {
	Name     *string                  `json:"name"`
	Type     *string                  `json:"type"`
	Secret   *string                  `json:"secret"`
	Options  *hookline.SourceOptions  `json:"options"`
	Response *hookline.SourceResponse `json:"response"`
	// Limits is raw so that an explicit null removes them, as it removes
	// an endpoint's filter or rate_limit: the source then takes the
	// server's defaults and accepts any address.
	Limits json.RawMessage `json:"limits"`
}

// applySource validates p onto src, filling the default answer (200
// {"received": true}).
func applySource(src *hookline.Source, p SourceParams) error {
	if p.Name != nil {
		src.Name = strings.TrimSpace(*p.Name)
	}
	if p.Type != nil {
		src.Type = *p.Type
	}
	if p.Secret != nil {
		src.Secret, src.SealErr = *p.Secret, nil // a new secret replaces one that did not open
	}
	if p.Options != nil {
		src.Options = *p.Options
	}
	if p.Response != nil {
		src.Response = *p.Response
	}
	if p.Limits != nil {
		src.Limits = hookline.SourceLimits{}
		if string(p.Limits) != "null" {
			if err := hookline.DecodeStrict(p.Limits, "limits", &src.Limits); err != nil {
				return withHint(err, `limits is an object like {"allowed_ips": ["192.0.2.0/24"], "requests_per_minute": 60, "bytes_per_day": 104857600}, or null for none`)
			}
		}
	}
	if err := inbound.CheckLimits(src.Limits); err != nil {
		return err
	}
	if src.Name == "" || len(src.Name) > 100 || strings.ContainsAny(src.Name, "/ \t\n") {
		return hookline.Invalid("name", "name is required: up to 100 characters, no spaces or slashes")
	}
	if src.Response.Status == 0 {
		src.Response.Status = http.StatusOK
		if src.Response.Body == "" {
			src.Response.Body = `{"received": true}`
			if src.Response.Headers == nil {
				src.Response.Headers = map[string]string{"Content-Type": "application/json"}
			}
		}
	}
	if src.Response.Status < 200 || src.Response.Status > 599 {
		return hookline.Invalid("response.status", "response.status must be an HTTP status from 200 to 599")
	}
	return inbound.Check(src)
}

// nameTaken says which name a conflict on a source is about.
func nameTaken(err error, name string) error {
	if hookline.ErrorCode(err) == hookline.ECONFLICT {
		return &hookline.Error{Code: hookline.ECONFLICT, Message: fmt.Sprintf("a source named %q exists", name), Param: "name"}
	}
	return err
}

// CreateSource validates p and stores a new source.
func (a *App) CreateSource(ctx context.Context, p SourceParams, by Actor) (*hookline.Source, error) {
	now := a.cfg.Now()
	src := &hookline.Source{ID: hookline.NewID("src"), Type: hookline.SourceNone, Created: now, Updated: now}
	if err := applySource(src, p); err != nil {
		return nil, err
	}
	if err := a.cfg.Store.CreateSource(ctx, src); err != nil {
		return nil, nameTaken(err, src.Name)
	}
	// The id only: the secret never reaches the logs.
	a.cfg.Logger.Info("source created", "source", src.ID, "type", src.Type, "by", string(by))
	return src, nil
}

// Source finds a source by id, or by name for people typing commands.
func (a *App) Source(ctx context.Context, idOrName string) (*hookline.Source, error) {
	if strings.HasPrefix(idOrName, "src_") {
		return a.cfg.Store.Source(ctx, idOrName)
	}
	return a.cfg.Store.SourceByName(ctx, idOrName)
}

// SourceSecret returns the id and the secret of source idOrName: the one
// way the API reveals a source's secret.
func (a *App) SourceSecret(ctx context.Context, idOrName string) (id, secret string, err error) {
	src, err := a.Source(ctx, idOrName)
	if err != nil {
		return "", "", err
	}
	if src.SealErr != nil {
		return "", "", hookline.Errorf(hookline.ECONFLICT, "the secret of source %s cannot be opened: %v; set it anew (PATCH /v1/sources/%s with a secret)", src.ID, src.SealErr, src.ID)
	}
	return src.ID, src.Secret, nil
}

// ListSources returns a page of sources, newest first.
func (a *App) ListSources(ctx context.Context, p hookline.Page) ([]*hookline.Source, bool, error) {
	return a.cfg.Store.ListSources(ctx, p)
}

// UpdateSource validates p and applies it to the source idOrName.
func (a *App) UpdateSource(ctx context.Context, idOrName string, p SourceParams) (*hookline.Source, error) {
	src, err := a.Source(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	if err := applySource(src, p); err != nil {
		return nil, err
	}
	src.Updated = a.cfg.Now()
	if err := a.cfg.Store.UpdateSource(ctx, src); err != nil {
		return nil, nameTaken(err, src.Name)
	}
	return src, nil
}

// DeleteSource deletes the source idOrName and its connections; its
// captured requests stay. It returns the source's id.
func (a *App) DeleteSource(ctx context.Context, idOrName string, by Actor) (string, error) {
	src, err := a.Source(ctx, idOrName)
	if err != nil {
		return "", err
	}
	if err := a.cfg.Store.DeleteSource(ctx, src.ID); err != nil {
		return "", err
	}
	a.cfg.Logger.Info("source deleted", "source", src.ID, "by", string(by))
	return src.ID, nil
}

// ConnectionParams are the fields creating and updating a connection take;
// nil means absent.
type ConnectionParams struct {
	SourceID *string         `json:"source_id"`
	URL      *string         `json:"url"`
	Filter   json.RawMessage `json:"filter"`
}

// CheckConnectionURL accepts what the engine has a transport for: http(s)
// URLs under CheckURL's rules and listen://<device> for a developer's
// `hookline listen`.
func (a *App) CheckConnectionURL(ctx context.Context, raw string) error {
	if dev, ok := strings.CutPrefix(raw, "listen://"); ok {
		if dev == "" || strings.ContainsAny(dev, "/?# ") {
			return hookline.Invalid("url", "a listen URL is listen://<device>")
		}
		return nil
	}
	return a.CheckURL(ctx, raw)
}

func (a *App) applyConnection(ctx context.Context, c *hookline.Connection, p ConnectionParams) error {
	if p.URL != nil {
		if err := a.CheckConnectionURL(ctx, *p.URL); err != nil {
			return err
		}
		c.URL = *p.URL
	}
	if p.Filter != nil {
		f, err := inbound.ParseFilter(p.Filter)
		if err != nil {
			return err
		}
		if f.Empty() {
			c.Filter = nil
		} else {
			c.Filter = append(json.RawMessage(nil), bytes.TrimSpace(p.Filter)...)
		}
	}
	return nil
}

// CreateConnection validates p and stores a new connection of the source
// p.SourceID (an id or a name).
func (a *App) CreateConnection(ctx context.Context, p ConnectionParams, by Actor) (*hookline.Connection, error) {
	if p.SourceID == nil || *p.SourceID == "" {
		return nil, hookline.Invalid("source_id", "source_id is required")
	}
	if p.URL == nil {
		return nil, hookline.Invalid("url", "url is required")
	}
	src, err := a.Source(ctx, *p.SourceID)
	if err != nil {
		if hookline.ErrorCode(err) == hookline.ENOTFOUND {
			return nil, &hookline.Error{Code: hookline.ENOTFOUND, Message: fmt.Sprintf("no such source: %q", *p.SourceID), Param: "source_id"}
		}
		return nil, err
	}
	now := a.cfg.Now()
	c := &hookline.Connection{ID: hookline.NewID("con"), SourceID: src.ID, SourceName: src.Name, Created: now, Updated: now}
	if err := a.applyConnection(ctx, c, p); err != nil {
		return nil, err
	}
	if err := a.cfg.Store.CreateConnection(ctx, c); err != nil {
		return nil, err
	}
	a.cfg.Logger.Info("connection created", "connection", c.ID, "source", src.ID, "by", string(by))
	return c, nil
}

// ListConnections returns a page of connections, of one source when
// f.SourceID (an id or a name) is set.
func (a *App) ListConnections(ctx context.Context, f hookline.ConnectionFilter) ([]*hookline.Connection, bool, error) {
	if f.SourceID != "" {
		src, err := a.Source(ctx, f.SourceID)
		if err != nil {
			return nil, false, err
		}
		f.SourceID = src.ID
	}
	list, more, err := a.cfg.Store.ListConnections(ctx, f)
	if err != nil {
		return nil, false, err
	}
	if err := a.nameSources(ctx, list...); err != nil {
		return nil, false, err
	}
	return list, more, nil
}

// Connection returns the connection id.
func (a *App) Connection(ctx context.Context, id string) (*hookline.Connection, error) {
	c, err := a.cfg.Store.Connection(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := a.nameSources(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// nameSources fills in the SourceName of cs, looking each source up once:
// the API shows the name beside the id, so that no client has to list
// every source to say which one a connection belongs to.
func (a *App) nameSources(ctx context.Context, cs ...*hookline.Connection) error {
	names := map[string]string{}
	for _, c := range cs {
		name, ok := names[c.SourceID]
		if !ok {
			src, err := a.cfg.Store.Source(ctx, c.SourceID)
			switch {
			case err == nil:
				name = src.Name
			case hookline.ErrorCode(err) != hookline.ENOTFOUND: // deleted meanwhile: no name
				return fmt.Errorf("naming the source of connection %s: %w", c.ID, err)
			}
			names[c.SourceID] = name
		}
		c.SourceName = name
	}
	return nil
}

// UpdateConnection validates p and applies it to connection id; its source
// cannot change.
func (a *App) UpdateConnection(ctx context.Context, id string, p ConnectionParams) (*hookline.Connection, error) {
	c, err := a.cfg.Store.Connection(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.SourceID != nil && *p.SourceID != c.SourceID {
		return nil, hookline.Invalid("source_id", "a connection's source cannot change; create another connection")
	}
	if err := a.applyConnection(ctx, c, p); err != nil {
		return nil, err
	}
	c.Updated = a.cfg.Now()
	if err := a.cfg.Store.UpdateConnection(ctx, c); err != nil {
		return nil, err
	}
	if err := a.nameSources(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteConnection deletes connection id and returns it as it was.
func (a *App) DeleteConnection(ctx context.Context, id string, by Actor) (*hookline.Connection, error) {
	c, err := a.cfg.Store.Connection(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := a.cfg.Store.DeleteConnection(ctx, c.ID); err != nil {
		return nil, err
	}
	a.cfg.Logger.Info("connection deleted", "connection", c.ID, "by", string(by))
	return c, nil
}

// RequestStatuses are the statuses captured requests are listed by.
var RequestStatuses = []string{hookline.RequestAccepted, hookline.RequestRejected, hookline.RequestDuplicate, hookline.RequestReplay}

// RequestQuery is what ListRequests lists: the store's filter, and what
// a SourceID that names no source means.
type RequestQuery struct {
	hookline.RequestFilter
	// GoneSources lists by SourceID as given when no source has that id or
	// name: a deleted source's requests stay, and the dashboard's filter
	// still lists them by its id (an id that never was lists none).
	// Unset, such a SourceID is ENOTFOUND, as the API answers it.
	GoneSources bool
}

// ListRequests returns a page of captured requests, newest first, of one
// source when q.SourceID (an id or a name) is set. The API and the
// dashboard's list both come here.
func (a *App) ListRequests(ctx context.Context, q RequestQuery) ([]*hookline.InboundRequest, bool, error) {
	f := q.RequestFilter
	switch f.Status {
	case "", hookline.RequestAccepted, hookline.RequestRejected, hookline.RequestDuplicate, hookline.RequestReplay:
	default:
		return nil, false, hookline.Invalid("status", "status must be accepted, rejected, duplicate or replay")
	}
	if f.SourceID != "" {
		src, err := a.Source(ctx, f.SourceID)
		switch {
		case err == nil:
			f.SourceID = src.ID
		case q.GoneSources && hookline.ErrorCode(err) == hookline.ENOTFOUND:
		default:
			return nil, false, err
		}
	}
	return a.cfg.Store.ListRequests(ctx, f)
}

// Request returns the captured request id.
func (a *App) Request(ctx context.Context, id string) (*hookline.InboundRequest, error) {
	return a.cfg.Store.Request(ctx, id)
}

// RequestAttempts returns a page of the attempts at forwarding captured
// request id.
func (a *App) RequestAttempts(ctx context.Context, id string, f hookline.AttemptFilter) ([]*hookline.Attempt, bool, error) {
	if _, err := a.cfg.Store.Request(ctx, id); err != nil {
		return nil, false, err
	}
	f.EventID = id
	return a.cfg.Store.ListAttempts(ctx, f)
}

// RequestDeliveries returns captured request id's delivery to each
// connection.
func (a *App) RequestDeliveries(ctx context.Context, id string) ([]*hookline.Delivery, error) {
	if _, err := a.cfg.Store.Request(ctx, id); err != nil {
		return nil, err
	}
	return a.cfg.Store.Deliveries(ctx, id)
}

// ResendRequest makes captured request id's deliveries due now, to one
// connection or to all, and wakes the engine.
func (a *App) ResendRequest(ctx context.Context, id, connectionID string) ([]*hookline.Delivery, error) {
	ds, err := a.cfg.Store.ResendRequest(ctx, id, connectionID, a.cfg.Now())
	if err != nil {
		return nil, err
	}
	a.wake()
	return ds, nil
}

// ReplayParams are a replay's edits and target (delivery.Replay says what
// each means) and who replays.
type ReplayParams struct {
	Method       string
	Headers      map[string][]string
	Body         *[]byte
	URL          string
	ConnectionID string
	// RemoteAddr is recorded as the copy's remote address.
	RemoteAddr string
}

// Check normalizes and validates p's edits, for every surface alike: the
// method is upper-cased, and it and the header names must be RFC 9110
// tokens; header values hold no control character (CR and LF would split
// the request). Replay calls it; a form that wants its errors before it
// sends may call it first.
func (p *ReplayParams) Check() error {
	if p.Method != "" {
		p.Method = strings.ToUpper(strings.TrimSpace(p.Method))
		if !httpguts.ValidHeaderFieldName(p.Method) {
			return hookline.Invalid("method", "method %q is not an HTTP method such as POST", p.Method)
		}
	}
	// In name order, so that of several bad headers the same one is
	// reported every time.
	for _, name := range slices.Sorted(maps.Keys(p.Headers)) {
		values := p.Headers[name]
		if !httpguts.ValidHeaderFieldName(name) {
			return hookline.Invalid("headers", "header name %q is not a valid HTTP header name", name)
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) {
				return hookline.Invalid("headers", "header %s has a control character in its value", name)
			}
		}
	}
	return nil
}

// ReplayBody is a replay's body as the JSON API takes it: body as text, or
// body_base64 for bytes that are not; nil when neither is given (the
// captured body is sent).
func ReplayBody(body, bodyBase64 *string) (*[]byte, error) {
	switch {
	case body != nil && bodyBase64 != nil:
		return nil, hookline.Invalid("body", "give body or body_base64, not both")
	case body != nil:
		b := []byte(*body)
		return &b, nil
	case bodyBase64 != nil:
		b, err := base64.StdEncoding.DecodeString(*bodyBase64)
		if err != nil {
			return nil, hookline.Invalid("body_base64", "body_base64 is not valid base64")
		}
		return &b, nil
	}
	return nil, nil
}

// Replay sends a copy of captured request id, maybe edited, to p.URL, to
// one connection, or to its source's connections that take it, now, and
// records each send as an attempt of a delivery of the copy (stored as a
// request with status replay).
func (a *App) Replay(ctx context.Context, id string, p ReplayParams, by Actor) (*delivery.ReplayResult, error) {
	orig, err := a.cfg.Store.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	owner := "replay"
	if by == ByDashboard {
		owner = "dashboard_replay"
	}
	rp := delivery.Replay{Method: p.Method, Headers: p.Headers, Body: p.Body, URL: p.URL, ConnectionID: p.ConnectionID,
		RemoteAddr: p.RemoteAddr, OwnerPrefix: owner, Now: a.cfg.Now(), Store: a.cfg.Store, Sender: a.forwarder,
		Engine: a.cfg.Engine, Logger: a.cfg.Logger, CheckURL: func(raw string) error { return a.CheckURL(ctx, raw) }}
	res, err := rp.Run(ctx, orig)
	if err != nil {
		return nil, err
	}
	a.cfg.Logger.Info("request replayed", "request", orig.ID, "copy", res.Request.ID, "targets", len(res.Sends), "by", string(by))
	return res, nil
}

// Received is a request as it arrived at a source's ingest URL, body read.
type Received struct {
	Method, Path, Query string
	Header              http.Header
	// Body is in the pieces it was read in: Ingest verifies, truncates
	// and stores them as they are (the database joins them).
	Body inbound.Body
	// Host is the Host header, kept with the request's headers.
	Host string
	// URL is the full URL the provider sent to, as its signature covers it.
	URL        string
	RemoteAddr string
}

// IngestSource returns the source whose ingest URL is /in/{id}: by id
// only, a name is no ingest URL.
// A source whose secret did not open (SealErr) refuses its requests: it
// cannot verify them, and no other source is affected.
func (a *App) IngestSource(ctx context.Context, id string) (*hookline.Source, error) {
	src, err := a.cfg.Store.Source(ctx, id)
	if err != nil {
		return nil, err
	}
	if src.SealErr != nil {
		a.cfg.Logger.Error("a request to a source whose secret cannot be opened is refused: set the source's secret anew",
			"source", src.ID, "err", src.SealErr)
		return nil, fmt.Errorf("source %s: %w", src.ID, src.SealErr)
	}
	return src, nil
}

// InboundTooLarge is the error of a request to an ingest URL whose body is
// over maxBody, the server's cap for received webhooks.
func InboundTooLarge(maxBody int64) error {
	return &hookline.Error{Code: hookline.ETOOLARGE, Message: fmt.Sprintf(
		"request body is larger than this server's %s cap for received webhooks (hookline serve --max-inbound-body raises it)",
		hookline.FormatBytes(maxBody))}
}

// AdmitInbound admits a request to src's ingest URL before its body is
// read, or refuses it: a body announced over maxBody (InboundTooLarge), an
// address outside the source's allowlist, over its rate or daily quota,
// too many bodies in memory at once, or too little free disk. The ticket's
// Done gives back what the request did not use.
func (a *App) AdmitInbound(ctx context.Context, src *hookline.Source, remoteAddr string, contentLength, maxBody int64) (*inbound.Ticket, error) {
	if contentLength > maxBody {
		return nil, InboundTooLarge(maxBody)
	}
	return a.cfg.Gate.Admit(ctx, src, remoteAddr, contentLength, maxBody)
}

// Ingest captures a request sent to src: it verifies it under the
// source's type, drops a provider's duplicate delivery, matches it against
// the source's connections, stores it exactly as it arrived (verified or
// rejected) with its deliveries, and hands them to the engine. It returns
// the stored request: Status rejected with the Reason, accepted, or
// duplicate; a rejected one keeps at most the first
// hookline.MaxRejectedBody bytes of its body. The caller found src first,
// so that an unknown source costs no body read.
func (a *App) Ingest(ctx context.Context, src *hookline.Source, in Received) (*hookline.InboundRequest, error) {
	var err error
	now := a.cfg.Now()
	headers := map[string][]string(in.Header.Clone())
	if in.Host != "" {
		headers["Host"] = []string{in.Host}
	}
	req := &hookline.InboundRequest{
		ID: hookline.NewID("req"), SourceID: src.ID, Method: in.Method, Path: in.Path, Query: in.Query,
		Headers: headers, Size: in.Body.Len(), RemoteAddr: in.RemoteAddr, Received: now,
		Status: hookline.RequestAccepted,
	}
	verr := inbound.Verify(src, &inbound.Request{Method: in.Method, URL: in.URL, Header: in.Header, Body: in.Body}, now)
	var rejected *inbound.VerifyError
	switch {
	case errors.As(verr, &rejected):
		req.Status, req.Reason = hookline.RequestRejected, rejected.Error()
	case verr != nil:
		req.Status, req.Reason = hookline.RequestRejected, "source misconfigured: "+verr.Error()
	}
	opts := hookline.CaptureOptions{Now: now, DedupeWindow: hookline.DedupeWindow}
	switch {
	case req.Status == hookline.RequestRejected && req.Size > hookline.MaxRejectedBody:
		// Strangers can send what fails verification as often as the rate
		// limit lets them: keep enough to see what it was, and its hash,
		// both taken from the pieces as they are, never joined.
		sum := in.Body.SHA256()
		req.Body, req.BodySHA256 = in.Body.Prefix(hookline.MaxRejectedBody), hex.EncodeToString(sum[:])
	case len(in.Body) > 1:
		// The database joins the pieces into the row: a request holds
		// its body once, also while it waits for its write.
		opts.BodyPieces = in.Body
	default:
		req.Body = in.Body.Bytes()
	}
	e := a.cfg.Engine
	if req.Status == hookline.RequestAccepted {
		req.DedupeKey = inbound.DedupeKey(src.Type, in.Header, in.Body)
		match := &inbound.Input{Method: in.Method, Path: in.Path, Query: in.Query, Header: in.Header, Pieces: in.Body}
		if opts.ConnectionIDs, err = inbound.MatchingConnections(ctx, a.cfg.Store, a.cfg.Logger, src.ID, match); err != nil {
			return nil, err
		}
		// Leased to this node, the deliveries go straight to its engine
		// rather than waiting for a claim.
		if e != nil && len(opts.ConnectionIDs) > 0 && e.Accepting() {
			opts.LeaseOwner, opts.LeaseExpires = e.Owner(), now.Add(e.Lease())
		}
	}
	res, err := a.cfg.Store.CaptureRequest(ctx, req, opts)
	if err != nil {
		return nil, err
	}
	if a.cfg.OnIngest != nil {
		a.cfg.OnIngest(src.Name, req.Status) // a duplicate's Status was changed by the store
	}
	if e != nil {
		switch {
		case len(res.Tasks) > 0:
			e.Submit(res.Tasks)
		case res.Deliveries > 0:
			e.Wake()
		}
	}
	return req, nil
}
