// Package httperr owns the one table that maps application errors
// (hookline.Error codes) to HTTP statuses and to the JSON body
// {"error": {"code", "message", "param"}}. Every HTTP surface answers its
// errors through it: the API and the listen hub write the JSON (Write), the
// dashboard renders the same status, code and message in a page (Status,
// Of), and the ingest URL answers a failed verification with it.
package httperr

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// statusOf maps an application error code to its HTTP status: the only
// such table.
var statusOf = map[string]int{
	hookline.EINVALID:      http.StatusBadRequest,
	hookline.EUNAUTHORIZED: http.StatusUnauthorized,
	hookline.ENOTFOUND:     http.StatusNotFound,
	hookline.ECONFLICT:     http.StatusConflict,
	hookline.EKEYREUSED:    http.StatusConflict,
	hookline.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	hookline.EUNAVAILABLE:  http.StatusServiceUnavailable,
	hookline.EFORBIDDEN:    http.StatusForbidden,
	hookline.ERATELIMITED:  http.StatusTooManyRequests,
	hookline.ENOSPACE:      http.StatusInsufficientStorage,
	hookline.ETIMEOUT:      http.StatusRequestTimeout,
	hookline.EMETHOD:       http.StatusMethodNotAllowed,
	hookline.EINTERNAL:     http.StatusInternalServerError,
}

// Body is an error as every JSON answer carries it.
type Body struct {
	Error Detail `json:"error"`
}

// Detail is the inside of Body.
type Detail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

// Of returns the HTTP status and the body err is answered with. A request
// body over its cap (*http.MaxBytesError) is ETOOLARGE; an error that is
// not a *hookline.Error is a 500 whose message says nothing of its detail.
func Of(err error) (int, Body) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = &hookline.Error{Code: hookline.ETOOLARGE, Message: "request body is larger than " + hookline.FormatBytes(tooLarge.Limit)}
	}
	code := hookline.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return status, Body{Error: Detail{Code: code, Message: hookline.ErrorMessage(err), Param: hookline.ErrorParam(err)}}
}

// Status returns the HTTP status err is answered with.
func Status(err error) int {
	status, _ := Of(err)
	return status
}

// Write writes err as a JSON error response, with Retry-After when the
// error says when to come back. Internal errors are logged with their
// detail and answered with a generic message.
func Write(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, body := Of(err)
	if d := hookline.ErrorRetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	}
	if status == http.StatusInternalServerError {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// Handler adapts a handler that returns its error: the error is written
// with Write.
func Handler(log *slog.Logger, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			Write(w, r, log, err)
		}
	})
}
