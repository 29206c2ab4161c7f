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

// Reading a body holds first firstBodyChunk bytes, then pieces twice as
// large as the one before, up to maxBodyPiece each.
const (
	firstBodyChunk = 64 << 10
	maxBodyPiece   = 1 << 20
)

// readInboundBody reads r's body, at most limit bytes. Memory follows the
// bytes that arrive, not the length a request announces: a stranger who
// announces 10 MiB and sends nothing holds 64 KiB, never 10 MiB. What
// arrives is kept in pieces, never copied to grow; a body with a length
// is given one buffer of that length once a sixteenth of it has arrived
// (a 10 MiB body so allocates about 10.6 MiB), and a chunked one is
// joined into one buffer of its size at its end (about twice its size, as
// io.ReadAll).
func readInboundBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	announced := r.ContentLength // the caller refused more than limit
	if announced >= 0 && announced <= firstBodyChunk {
		buf := make([]byte, announced)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	var (
		pieces [][]byte
		got    int64
		size   = int64(firstBodyChunk)
	)
	for {
		if announced >= 0 && got >= announced/16 {
			// Enough arrived that holding the whole costs at most sixteen
			// times what the sender spent (and never more than limit).
			buf := make([]byte, announced)
			join(buf, pieces)
			if _, err := io.ReadFull(body, buf[got:]); err != nil {
				return nil, err
			}
			return buf, nil
		}
		want := size
		if announced >= 0 {
			want = min(size, announced/16+1-got) // no more than it takes to reach the sixteenth
		}
		piece := make([]byte, want)
		n, err := io.ReadFull(body, piece)
		pieces, got = append(pieces, piece[:n]), got+int64(n)
		switch {
		case err == nil:
		case (err == io.EOF || err == io.ErrUnexpectedEOF) && announced < 0:
			if len(pieces) == 1 {
				return pieces[0], nil
			}
			buf := make([]byte, got)
			join(buf, pieces)
			return buf, nil
		default:
			return nil, err // a body shorter than announced is io.ErrUnexpectedEOF
		}
		size = min(2*size, maxBodyPiece)
	}
}

// join copies pieces one after the other into buf.
func join(buf []byte, pieces [][]byte) {
	off := 0
	for _, p := range pieces {
		off += copy(buf[off:], p)
	}
}
