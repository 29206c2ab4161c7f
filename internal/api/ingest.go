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
	var kept int64
	defer func() { ticket.Done(kept) }()
	body, err := readInboundBody(w, r, s.cfg.MaxInboundBody)
	kept = body.Len()
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
	if req.BodySHA256 != "" {
		kept = int64(len(req.Body)) // rejected: only what is kept counts
	}
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

// A body is read into pieces: the first of firstBodyChunk bytes, each
// next one as large as all before it, up to maxBodyPiece.
const (
	firstBodyChunk = 64 << 10
	maxBodyPiece   = 256 << 10
)

// readInboundBody reads r's body, at most limit bytes, into pieces
// allocated as its bytes arrive: never by the length a request announces,
// and never more ahead of what arrived than what arrived (at most
// maxBodyPiece; firstBodyChunk to start). A stranger who announces
// 10 MiB and sends 640 KiB holds under 1 MiB. Nothing is copied to grow
// or joined here: the pieces go on as they are (inbound.Body).
func readInboundBody(w http.ResponseWriter, r *http.Request, limit int64) (inbound.Body, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	announced := r.ContentLength // the caller refused more than limit
	var (
		pieces inbound.Body
		got    int64
		size   = int64(firstBodyChunk)
	)
	for announced < 0 || got < announced {
		want := size
		if announced >= 0 {
			want = min(size, announced-got)
		}
		piece := make([]byte, want)
		n, err := io.ReadFull(body, piece)
		if n > 0 {
			pieces, got = append(pieces, piece[:n]), got+int64(n)
		}
		switch {
		case err == nil:
		case (err == io.EOF || err == io.ErrUnexpectedEOF) && announced < 0:
			return pieces, nil
		default:
			return nil, err // a body shorter than announced is io.ErrUnexpectedEOF
		}
		size = min(got, maxBodyPiece)
	}
	return pieces, nil
}
