package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/inbound"
)

// DefaultMaxInboundBody caps a request received at a source (10 MiB;
// GitHub sends up to 25 MB, so serve's --max-inbound-body raises it).
const DefaultMaxInboundBody = 10 << 20

// inboundRoutes registers the receiving side: sources, connections,
// captured requests and the ingest URL. routes calls it.
func (s *Server) inboundRoutes() {
	m, auth := s.mux, s.Authenticated
	if s.cfg.MaxInboundBody <= 0 {
		s.cfg.MaxInboundBody = DefaultMaxInboundBody
	}
	s.forwarder = &delivery.ForwardSender{Client: delivery.NewHTTPClient(s.cfg.Dev)}

	m.Handle("POST /v1/sources", auth(s.handle(s.createSource)))
	m.Handle("GET /v1/sources", auth(s.handle(s.listSources)))
	m.Handle("GET /v1/sources/{id}", auth(s.handle(s.getSource)))
	m.Handle("PATCH /v1/sources/{id}", auth(s.handle(s.updateSource)))
	m.Handle("DELETE /v1/sources/{id}", auth(s.handle(s.deleteSource)))

	m.Handle("POST /v1/connections", auth(s.handle(s.createConnection)))
	m.Handle("GET /v1/connections", auth(s.handle(s.listConnections)))
	m.Handle("GET /v1/connections/{id}", auth(s.handle(s.getConnection)))
	m.Handle("PATCH /v1/connections/{id}", auth(s.handle(s.updateConnection)))
	m.Handle("DELETE /v1/connections/{id}", auth(s.handle(s.deleteConnection)))

	m.Handle("GET /v1/requests", auth(s.handle(s.listRequests)))
	m.Handle("GET /v1/requests/{id}", auth(s.handle(s.getRequest)))
	m.Handle("GET /v1/requests/{id}/raw", auth(s.handle(s.rawRequest)))
	m.Handle("GET /v1/requests/{id}/attempts", auth(s.handle(s.listRequestAttempts)))
	m.Handle("GET /v1/requests/{id}/deliveries", auth(s.handle(s.listRequestDeliveries)))
	m.Handle("POST /v1/requests/{id}/resend", auth(s.handle(s.resendRequest)))
	m.Handle("POST /v1/requests/{id}/replay", auth(s.handle(s.replayRequest)))

	// The ingest URL takes any method and content type, and no API key:
	// the source's own verification stands in for it.
	m.Handle("/in/{id}", s.handle(s.ingest))
	m.Handle("/in/{id}/{rest...}", s.handle(s.ingest))
}

// --- sources ---

type sourceJSON struct {
	ID        string                  `json:"id"`
	Object    string                  `json:"object"`
	Name      string                  `json:"name"`
	Type      string                  `json:"type"`
	Secret    string                  `json:"secret"`
	Options   hookline.SourceOptions  `json:"options"`
	Response  hookline.SourceResponse `json:"response"`
	Limits    hookline.SourceLimits   `json:"limits"`
	IngestURL string                  `json:"ingest_url"`
	Created   int64                   `json:"created"`
	Updated   int64                   `json:"updated"`
}

func renderSource(r *http.Request, src *hookline.Source) sourceJSON {
	return sourceJSON{ID: src.ID, Object: "source", Name: src.Name, Type: src.Type, Secret: src.Secret,
		Options: src.Options, Response: src.Response, Limits: src.Limits, IngestURL: inbound.BaseURL(r) + "/in/" + src.ID,
		Created: src.Created.Unix(), Updated: src.Updated.Unix()}
}

type sourceParams struct {
	Name     *string                  `json:"name"`
	Type     *string                  `json:"type"`
	Secret   *string                  `json:"secret"`
	Options  *hookline.SourceOptions  `json:"options"`
	Response *hookline.SourceResponse `json:"response"`
	Limits   *hookline.SourceLimits   `json:"limits"`
}

func (p *sourceParams) apply(src *hookline.Source) error {
	if p.Name != nil {
		src.Name = strings.TrimSpace(*p.Name)
	}
	if p.Type != nil {
		src.Type = *p.Type
	}
	if p.Secret != nil {
		src.Secret = *p.Secret
	}
	if p.Options != nil {
		src.Options = *p.Options
	}
	if p.Response != nil {
		src.Response = *p.Response
	}
	if p.Limits != nil {
		src.Limits = *p.Limits
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

// source finds a source by id, or by name for people typing commands.
func (s *Server) source(ctx context.Context, idOrName string) (*hookline.Source, error) {
	if strings.HasPrefix(idOrName, "src_") {
		return s.cfg.Store.Source(ctx, idOrName)
	}
	return s.cfg.Store.SourceByName(ctx, idOrName)
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request) error {
	var p sourceParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	now := s.cfg.Now()
	src := &hookline.Source{ID: hookline.NewID("src"), Type: hookline.SourceNone, Created: now, Updated: now}
	if err := p.apply(src); err != nil {
		return err
	}
	if err := s.cfg.Store.CreateSource(r.Context(), src); err != nil {
		if hookline.ErrorCode(err) == hookline.ECONFLICT {
			return &hookline.Error{Code: hookline.ECONFLICT, Message: fmt.Sprintf("a source named %q exists", src.Name), Param: "name"}
		}
		return err
	}
	writeJSON(w, http.StatusCreated, renderSource(r, src))
	return nil
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	list, more, err := s.cfg.Store.ListSources(r.Context(), pg)
	if err != nil {
		return err
	}
	out := make([]sourceJSON, len(list))
	for i, src := range list {
		out[i] = renderSource(r, src)
	}
	writeJSON(w, http.StatusOK, newList(out, more))
	return nil
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request) error {
	src, err := s.source(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderSource(r, src))
	return nil
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request) error {
	src, err := s.source(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var p sourceParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	if err := p.apply(src); err != nil {
		return err
	}
	src.Updated = s.cfg.Now()
	if err := s.cfg.Store.UpdateSource(r.Context(), src); err != nil {
		if hookline.ErrorCode(err) == hookline.ECONFLICT {
			return &hookline.Error{Code: hookline.ECONFLICT, Message: fmt.Sprintf("a source named %q exists", src.Name), Param: "name"}
		}
		return err
	}
	writeJSON(w, http.StatusOK, renderSource(r, src))
	return nil
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request) error {
	src, err := s.source(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.cfg.Store.DeleteSource(r.Context(), src.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": src.ID, "object": "source", "deleted": true})
	return nil
}

// --- connections ---

type connectionJSON struct {
	ID       string          `json:"id"`
	Object   string          `json:"object"`
	SourceID string          `json:"source_id"`
	URL      string          `json:"url"`
	Filter   json.RawMessage `json:"filter"`
	Created  int64           `json:"created"`
	Updated  int64           `json:"updated"`
}

func renderConnection(c *hookline.Connection) connectionJSON {
	f := c.Filter
	if len(f) == 0 {
		f = json.RawMessage("null")
	}
	return connectionJSON{ID: c.ID, Object: "connection", SourceID: c.SourceID, URL: c.URL, Filter: f,
		Created: c.Created.Unix(), Updated: c.Updated.Unix()}
}

type connectionParams struct {
	SourceID *string         `json:"source_id"`
	URL      *string         `json:"url"`
	Filter   json.RawMessage `json:"filter"`
}

// checkConnectionURL accepts what the engine has a transport for: http(s)
// URLs (guarded as endpoints' are) and listen://<device> for a
// developer's `hookline listen`.
func (s *Server) checkConnectionURL(r *http.Request, raw string) error {
	if strings.HasPrefix(raw, "listen://") {
		if len(raw) == len("listen://") || strings.ContainsAny(raw[len("listen://"):], "/?# ") {
			return hookline.Invalid("url", "a listen URL is listen://<device>")
		}
		return nil
	}
	return s.checkURL(r, raw)
}

func (s *Server) applyConnection(r *http.Request, c *hookline.Connection, p connectionParams) error {
	if p.URL != nil {
		if err := s.checkConnectionURL(r, *p.URL); err != nil {
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

func (s *Server) createConnection(w http.ResponseWriter, r *http.Request) error {
	var p connectionParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	if p.SourceID == nil || *p.SourceID == "" {
		return hookline.Invalid("source_id", "source_id is required")
	}
	if p.URL == nil {
		return hookline.Invalid("url", "url is required")
	}
	src, err := s.source(r.Context(), *p.SourceID)
	if err != nil {
		if hookline.ErrorCode(err) == hookline.ENOTFOUND {
			return &hookline.Error{Code: hookline.ENOTFOUND, Message: fmt.Sprintf("no such source: %q", *p.SourceID), Param: "source_id"}
		}
		return err
	}
	now := s.cfg.Now()
	c := &hookline.Connection{ID: hookline.NewID("con"), SourceID: src.ID, Created: now, Updated: now}
	if err := s.applyConnection(r, c, p); err != nil {
		return err
	}
	if err := s.cfg.Store.CreateConnection(r.Context(), c); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, renderConnection(c))
	return nil
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	f := hookline.ConnectionFilter{Page: pg}
	if id := r.URL.Query().Get("source_id"); id != "" {
		src, err := s.source(r.Context(), id)
		if err != nil {
			return err
		}
		f.SourceID = src.ID
	}
	list, more, err := s.cfg.Store.ListConnections(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]connectionJSON, len(list))
	for i, c := range list {
		out[i] = renderConnection(c)
	}
	writeJSON(w, http.StatusOK, newList(out, more))
	return nil
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.cfg.Store.Connection(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderConnection(c))
	return nil
}

func (s *Server) updateConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.cfg.Store.Connection(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var p connectionParams
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	if p.SourceID != nil && *p.SourceID != c.SourceID {
		return hookline.Invalid("source_id", "a connection's source cannot change; create another connection")
	}
	if err := s.applyConnection(r, c, p); err != nil {
		return err
	}
	c.Updated = s.cfg.Now()
	if err := s.cfg.Store.UpdateConnection(r.Context(), c); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderConnection(c))
	return nil
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.cfg.Store.DeleteConnection(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "connection", "deleted": true})
	return nil
}

// --- ingest ---

// ingest captures a request sent to a source: it stores it exactly as it
// arrived, verified or rejected, answers once it is durably stored, and
// leaves the forwarding to the delivery engine.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request) error {
	src, err := s.cfg.Store.Source(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	tooLarge := &hookline.Error{Code: hookline.ETOOLARGE, Message: fmt.Sprintf(
		"request body is larger than this server's %s cap for received webhooks (hookline serve --max-inbound-body raises it)",
		formatBytes(s.cfg.MaxInboundBody))}
	if r.ContentLength > s.cfg.MaxInboundBody {
		return tooLarge
	}
	ticket, err := s.gate.Admit(r.Context(), src, r.RemoteAddr, r.ContentLength, s.cfg.MaxInboundBody)
	if err != nil {
		return err
	}
	// The ticket holds a slot while the body is in memory, and gives back
	// the quota the request turned out not to use: a rejected one counts
	// only what is kept of it, so strangers cannot spend a provider's quota.
	var kept []byte
	defer func() { ticket.Done(int64(len(kept))) }()
	body, err := readInboundBody(w, r, s.cfg.MaxInboundBody)
	kept = body
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return tooLarge
		}
		return hookline.Invalid("", "reading the request body: %v", err)
	}
	now := s.cfg.Now()
	headers := map[string][]string(r.Header.Clone())
	if r.Host != "" {
		headers["Host"] = []string{r.Host}
	}
	req := &hookline.InboundRequest{
		ID: hookline.NewID("req"), SourceID: src.ID, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Headers: headers, Body: body, Size: int64(len(body)), RemoteAddr: r.RemoteAddr, Received: now,
		Status: hookline.RequestAccepted,
	}
	verr := inbound.Verify(src, &inbound.Request{Method: r.Method, URL: inbound.BaseURL(r) + r.URL.RequestURI(), Header: r.Header, Body: body}, now)
	var rejected *inbound.VerifyError
	switch {
	case errors.As(verr, &rejected):
		req.Status, req.Reason = hookline.RequestRejected, rejected.Error()
	case verr != nil:
		req.Status, req.Reason = hookline.RequestRejected, "source misconfigured: "+verr.Error()
	}
	if req.Status == hookline.RequestRejected && len(body) > hookline.MaxRejectedBody {
		// Strangers can send what fails verification as often as the rate
		// limit lets them: keep enough to see what it was, and its hash.
		sum := sha256.Sum256(body)
		req.Body, req.BodySHA256 = body[:hookline.MaxRejectedBody], hex.EncodeToString(sum[:])
		kept = req.Body
	}
	opts := hookline.CaptureOptions{Now: now, DedupeWindow: hookline.DedupeWindow}
	if req.Status == hookline.RequestAccepted {
		req.DedupeKey = inbound.DedupeKey(src.Type, r.Header, body)
		in := &inbound.Input{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header, Body: body}
		if opts.ConnectionIDs, err = delivery.MatchingConnections(r.Context(), s.cfg.Store, s.cfg.Logger, src.ID, in); err != nil {
			return err
		}
		if e := s.cfg.Engine; e != nil && len(opts.ConnectionIDs) > 0 && e.Accepting() {
			opts.LeaseOwner, opts.LeaseExpires = e.Owner(), now.Add(e.Lease())
		}
	}
	res, err := s.cfg.Store.CaptureRequest(r.Context(), req, opts)
	if err != nil {
		return err
	}
	if s.cfg.OnIngest != nil {
		s.cfg.OnIngest(src.Name, req.Status) // a duplicate's Status was changed by the store
	}
	w.Header().Set(delivery.HeaderRequestID, req.ID)
	if req.Status == hookline.RequestRejected {
		writeJSON(w, http.StatusUnauthorized, errorBody{Error: errorDetail{Code: hookline.EUNAUTHORIZED,
			Message: "webhook verification failed: " + req.Reason}})
	} else {
		for k, v := range src.Response.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(src.Response.Status)
		_, _ = io.WriteString(w, src.Response.Body)
	}
	if e := s.cfg.Engine; e != nil {
		switch {
		case len(res.Tasks) > 0:
			e.Submit(res.Tasks)
		case res.Deliveries > 0:
			e.Wake()
		}
	}
	return nil
}

// --- requests ---

type requestJSON struct {
	ID           string              `json:"id"`
	Object       string              `json:"object"`
	SourceID     string              `json:"source_id"`
	Method       string              `json:"method"`
	Path         string              `json:"path"`
	Query        string              `json:"query"`
	Headers      map[string][]string `json:"headers"`
	Body         *string             `json:"body,omitempty"`
	BodyEncoding string              `json:"body_encoding,omitempty"` // utf8 or base64
	Size         int                 `json:"size"`
	RemoteAddr   string              `json:"remote_addr"`
	Received     int64               `json:"received"`
	ReceivedMS   int64               `json:"received_ms"`
	Status       string              `json:"status"`
	Reason       string              `json:"reason"`
	DedupeKey    string              `json:"dedupe_key"`
	ReplayOf     string              `json:"replay_of,omitempty"`
	// Truncated says Body holds only the first 64 KiB of a rejected
	// request's Size bytes, whose SHA-256 BodySHA256 is.
	Truncated  bool   `json:"truncated,omitempty"`
	BodySHA256 string `json:"body_sha256,omitempty"`
}

func renderRequest(req *hookline.InboundRequest, withBody bool) requestJSON {
	j := requestJSON{ID: req.ID, Object: "request", SourceID: req.SourceID, Method: req.Method, Path: req.Path,
		Query: req.Query, Headers: req.Headers, Size: int(max(req.Size, int64(len(req.Body)))), RemoteAddr: req.RemoteAddr,
		Received: req.Received.Unix(), ReceivedMS: req.Received.UnixMilli(), Status: req.Status, Reason: req.Reason,
		DedupeKey: req.DedupeKey, ReplayOf: req.ReplayOf, Truncated: req.Size > int64(len(req.Body)), BodySHA256: req.BodySHA256}
	if withBody {
		var b string
		if utf8.Valid(req.Body) && !bytes.ContainsRune(req.Body, 0) {
			b, j.BodyEncoding = string(req.Body), "utf8"
		} else {
			b, j.BodyEncoding = base64.StdEncoding.EncodeToString(req.Body), "base64"
		}
		j.Body = &b
	}
	return j
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := hookline.RequestFilter{Page: pg, Status: q.Get("status"), Search: q.Get("q")}
	if id := q.Get("source_id"); id != "" {
		src, err := s.source(r.Context(), id)
		if err != nil {
			return err
		}
		f.SourceID = src.ID
	}
	switch f.Status {
	case "", hookline.RequestAccepted, hookline.RequestRejected, hookline.RequestDuplicate, hookline.RequestReplay:
	default:
		return hookline.Invalid("status", "status must be accepted, rejected, duplicate or replay")
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := parseTime(v)
			if err != nil {
				return hookline.Invalid(p.name, "%s must be a unix time or RFC 3339", p.name)
			}
			*p.dst = t
		}
	}
	list, more, err := s.cfg.Store.ListRequests(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]requestJSON, len(list))
	for i, req := range list {
		out[i] = renderRequest(req, false)
	}
	writeJSON(w, http.StatusOK, newList(out, more))
	return nil
}

func parseTime(v string) (time.Time, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	return time.Parse(time.RFC3339, v)
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) error {
	req, err := s.cfg.Store.Request(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderRequest(req, true))
	return nil
}

// rawRequest answers the body bytes exactly as received, with the content
// type they came with.
func (s *Server) rawRequest(w http.ResponseWriter, r *http.Request) error {
	req, err := s.cfg.Store.Request(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ct := http.Header(req.Headers).Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(req.Body)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(req.Body)
	return nil
}

func (s *Server) listRequestAttempts(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := s.cfg.Store.Request(r.Context(), id); err != nil {
		return err
	}
	return s.listAttempts(w, r, hookline.AttemptFilter{EventID: id, EndpointID: r.URL.Query().Get("connection_id")})
}

func (s *Server) listRequestDeliveries(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := s.cfg.Store.Request(r.Context(), id); err != nil {
		return err
	}
	return s.writeDeliveries(w, r, id)
}

func (s *Server) resendRequest(w http.ResponseWriter, r *http.Request) error {
	var p struct {
		ConnectionID string `json:"connection_id"`
	}
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, true); err != nil {
		return err
	}
	ds, err := s.cfg.Store.ResendRequest(r.Context(), r.PathValue("id"), p.ConnectionID, s.cfg.Now())
	if err != nil {
		return err
	}
	s.writeResent(w, http.StatusOK, ds)
	return nil
}

type replayParams struct {
	URL          string            `json:"url"`
	ConnectionID string            `json:"connection_id"`
	Method       string            `json:"method"`
	Headers      map[string]string `json:"headers"`
	Body         *string           `json:"body"`
	BodyBase64   *string           `json:"body_base64"`
}

type replayJSON struct {
	Object   string        `json:"object"`
	Request  requestJSON   `json:"request"`
	Attempts []attemptJSON `json:"attempts"`
	// Queued are deliveries handed to the engine (listen:// connections).
	Queued []string `json:"queued"`
}

// replayRequest sends a copy of a captured request, maybe edited, to a URL
// or to its source's matching connections, now, and records each send as
// an attempt of a delivery of the copy (stored as a request with status
// replay), so that it shows up like any other. delivery.Replay does the
// work; the dashboard's replay buttons share it.
func (s *Server) replayRequest(w http.ResponseWriter, r *http.Request) error {
	orig, err := s.cfg.Store.Request(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	var p replayParams
	if err := decode(w, r, s.cfg.MaxInboundBody+s.cfg.MaxBodyBytes, &p, true); err != nil {
		return err
	}
	rp := delivery.Replay{URL: p.URL, ConnectionID: p.ConnectionID, RemoteAddr: r.RemoteAddr, OwnerPrefix: "replay",
		Now: s.cfg.Now(), Store: s.cfg.Store, Sender: s.forwarder, Engine: s.cfg.Engine, Logger: s.cfg.Logger,
		CheckURL: func(raw string) error { return s.checkURL(r, raw) }}
	if p.Method != "" {
		rp.Method = strings.ToUpper(p.Method)
	}
	if p.Headers != nil {
		rp.Headers = make(map[string][]string, len(p.Headers))
		for k, v := range p.Headers {
			http.Header(rp.Headers).Set(k, v)
		}
	}
	switch {
	case p.Body != nil && p.BodyBase64 != nil:
		return hookline.Invalid("body", "give body or body_base64, not both")
	case p.Body != nil:
		b := []byte(*p.Body)
		rp.Body = &b
	case p.BodyBase64 != nil:
		b, err := base64.StdEncoding.DecodeString(*p.BodyBase64)
		if err != nil {
			return hookline.Invalid("body_base64", "body_base64 is not valid base64")
		}
		rp.Body = &b
	}
	res, err := rp.Run(r.Context(), orig)
	if err != nil {
		return err
	}
	out := replayJSON{Object: "replay", Request: renderRequest(res.Request, true), Attempts: []attemptJSON{}, Queued: []string{}}
	for _, sent := range res.Sends {
		if sent.Attempt == nil {
			out.Queued = append(out.Queued, sent.DeliveryID)
		} else {
			out.Attempts = append(out.Attempts, renderAttempt(sent.Attempt))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// readInboundBody reads r's body, at most limit bytes, into one buffer of
// its announced length when it has one, so a 10 MiB body costs 10 MiB and
// not the doublings of a growing buffer.
func readInboundBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength < 0 {
		return io.ReadAll(body)
	}
	buf := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, err
	}
	return buf, nil
}
