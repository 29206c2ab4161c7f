package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// statusOf maps an application error code to its HTTP status.
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
	hookline.EINTERNAL:     http.StatusInternalServerError,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

// Error writes err as a JSON error response: the one place where errors
// become HTTP. Internal errors are logged with their detail and answered
// with a generic message.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = &hookline.Error{Code: hookline.ETOOLARGE, Message: "request body is larger than " + formatBytes(tooLarge.Limit)}
	}
	code := hookline.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if d := hookline.ErrorRetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	}
	if status == http.StatusInternalServerError {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: hookline.ErrorMessage(err), Param: hookline.ErrorParam(err)}})
}
