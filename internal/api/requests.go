package api

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
)

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

// ListRequests is GET /v1/requests.
func (s *Server) ListRequests(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := hookline.RequestFilter{Page: pg, Status: q.Get("status"), Search: q.Get("q"), SourceID: q.Get("source_id")}
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
	list, more, err := s.app.ListRequests(r.Context(), app.RequestQuery{RequestFilter: f})
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

// GetRequest is GET /v1/requests/{id}, with the body.
func (s *Server) GetRequest(w http.ResponseWriter, r *http.Request) error {
	req, err := s.app.Request(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderRequest(req, true))
	return nil
}

// RawRequest is GET /v1/requests/{id}/raw: the body bytes exactly as
// received, with the content type they came with.
func (s *Server) RawRequest(w http.ResponseWriter, r *http.Request) error {
	req, err := s.app.Request(r.Context(), r.PathValue("id"))
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

// ListRequestAttempts is GET /v1/requests/{id}/attempts.
func (s *Server) ListRequestAttempts(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	as, more, err := s.app.RequestAttempts(r.Context(), r.PathValue("id"),
		hookline.AttemptFilter{Page: pg, EndpointID: r.URL.Query().Get("connection_id")})
	if err != nil {
		return err
	}
	writeAttempts(w, as, more)
	return nil
}

// ListRequestDeliveries is GET /v1/requests/{id}/deliveries.
func (s *Server) ListRequestDeliveries(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.app.RequestDeliveries(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeDeliveries(w, http.StatusOK, ds)
	return nil
}

// ResendRequest is POST /v1/requests/{id}/resend.
func (s *Server) ResendRequest(w http.ResponseWriter, r *http.Request) error {
	var p struct {
		ConnectionID string `json:"connection_id"`
	}
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, true); err != nil {
		return err
	}
	ds, err := s.app.ResendRequest(r.Context(), r.PathValue("id"), p.ConnectionID)
	if err != nil {
		return err
	}
	writeDeliveries(w, http.StatusOK, ds)
	return nil
}

type replayParams struct {
	URL          string            `json:"url"`
	ConnectionID string            `json:"connection_id"`
	Method       string            `json:"method"`
	Headers      map[string]string `json:"headers"`
	Body         *string           `json:"body" nul:"bytes"` // sent and stored as bytes, NUL and all
	BodyBase64   *string           `json:"body_base64"`
}

type replayJSON struct {
	Object   string        `json:"object"`
	Request  requestJSON   `json:"request"`
	Attempts []attemptJSON `json:"attempts"`
	// Queued are deliveries handed to the engine (listen:// connections).
	Queued []string `json:"queued"`
}

// ReplayRequest is POST /v1/requests/{id}/replay: a copy of a captured
// request, maybe edited, sent now (app.Replay).
func (s *Server) ReplayRequest(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.app.Request(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	var p replayParams
	if err := decode(w, r, s.cfg.MaxInboundBody+s.cfg.MaxBodyBytes, &p, true); err != nil {
		return err
	}
	body, err := app.ReplayBody(p.Body, p.BodyBase64)
	if err != nil {
		return err
	}
	rp := app.ReplayParams{Method: p.Method, Body: body, URL: p.URL, ConnectionID: p.ConnectionID, RemoteAddr: r.RemoteAddr}
	if p.Headers != nil {
		rp.Headers = make(map[string][]string, len(p.Headers))
		for k, v := range p.Headers {
			http.Header(rp.Headers).Set(k, v)
		}
	}
	res, err := s.app.Replay(r.Context(), r.PathValue("id"), rp, app.ByAPI)
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
