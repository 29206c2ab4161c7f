package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/inbound"
)

// Ingest is /in/{id} (any method, any content type, no API key: the
// source's own verification stands in for it). It has the request
// admitted (app.AdmitInbound), reads the body up to the inbound cap, has
// app.Ingest capture the request, and answers once it is durably stored:
// the source's configured answer, or 401 when verification failed (the
// request is stored all the same).
func (s *Server) Ingest(w http.ResponseWriter, r *http.Request) error {
	src, err := s.app.IngestSource(r.Context(), r.PathValue("id"))
	if err != nil {
		return err // an unknown source costs no body read
	}
	ticket, err := s.app.AdmitInbound(r.Context(), src, r.RemoteAddr, r.ContentLength, s.cfg.MaxInboundBody)
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
			return app.InboundTooLarge(s.cfg.MaxInboundBody)
		}
		if errors.As(err, new(*hookline.Error)) {
			return err // a body that arrived too slowly (408)
		}
		return hookline.Invalid("", "reading the request body: %v", err)
	}
	req, err := s.app.Ingest(r.Context(), src, app.Received{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header, Body: body, Host: r.Host,
		URL: inbound.BaseURL(r) + r.URL.RequestURI(), RemoteAddr: r.RemoteAddr,
	})
	if err != nil {
		return err
	}
	kept = req.Body
	w.Header().Set(delivery.HeaderRequestID, req.ID)
	if req.Status == hookline.RequestRejected {
		return &hookline.Error{Code: hookline.EUNAUTHORIZED, Message: "webhook verification failed: " + req.Reason}
	}
	for k, v := range src.Response.Headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(src.Response.Status)
	_, _ = io.WriteString(w, src.Response.Body)
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
