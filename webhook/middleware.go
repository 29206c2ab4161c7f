package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// DefaultMaxBodyBytes is the largest body Middleware reads when
// Verifier.MaxBodyBytes is not set: generous for webhooks, which are rarely
// over a megabyte, while still bounding the memory one request can take.
const DefaultMaxBodyBytes = 25 << 20

// Middleware returns a handler that verifies each request before passing it
// to next. It reads the whole body (up to MaxBodyBytes), verifies it with
// [Verifier.Verify], and gives next a fresh r.Body holding the same bytes,
// so next can decode the body as if nothing had read it.
//
// On failure next is not called and the response is a short plain-text
// error: 400 Bad Request for missing or malformed headers or an unreadable
// body, 413 Request Entity Too Large for a body over the cap, and 401
// Unauthorized for a timestamp out of tolerance or a signature that does not
// match. The response never includes the expected signature.
//
// A nil or zero Verifier (an unchecked NewVerifier error) answers every
// request 500 Internal Server Error with ErrNoSecret's message: the fault is
// the receiver's configuration, and the sender will retry once it is fixed.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.ready(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		limit := v.MaxBodyBytes
		if limit <= 0 {
			limit = DefaultMaxBodyBytes
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, fmt.Sprintf("webhook body over %d bytes", tooLarge.Limit), http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "reading webhook body failed", http.StatusBadRequest)
			return
		}
		if err := v.Verify(r.Header, body); err != nil {
			http.Error(w, err.Error(), statusFor(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		// A chunked request had no length; now it has one.
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// statusFor maps a verification error to the HTTP status Middleware sends:
// 400 when the request is not a well-formed webhook at all, 401 when it is
// but cannot be trusted.
func statusFor(err error) int {
	if errors.Is(err, ErrNoSecret) {
		return http.StatusInternalServerError
	}
	if errors.Is(err, ErrMissingHeaders) || errors.Is(err, ErrInvalidHeaders) {
		return http.StatusBadRequest
	}
	return http.StatusUnauthorized
}
