package hookline

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. The HTTP API maps each to a status in one place
// (internal/httperr), the CLI prints them as they are.
const (
	ECONFLICT     = "conflict"               // the request conflicts with the current state (409)
	EKEYREUSED    = "idempotency_key_reused" // an Idempotency-Key sent again with another request (409), as Stripe names it
	EINTERNAL     = "internal_error"         // a bug or an unavailable dependency (500)
	EINVALID      = "invalid_request"        // malformed or invalid input (400)
	ENOTFOUND     = "resource_missing"       // no such object (404)
	EUNAUTHORIZED = "unauthorized"           // missing or wrong API key (401)
	ETOOLARGE     = "body_too_large"         // request body over the cap (413)
	EUNAVAILABLE  = "unavailable"            // shutting down or overloaded (503)
	EFORBIDDEN    = "forbidden"              // the caller may not do this from where it is (403)
	ERATELIMITED  = "rate_limited"           // over a rate limit or quota; retry later (429)
	ENOSPACE      = "insufficient_storage"   // the server's disk is nearly full (507)
	ETIMEOUT      = "request_timeout"        // the request body arrived too slowly (408)
	EMETHOD       = "method_not_allowed"     // the route exists under other methods (405, with Allow)
)

// Error is an application error: a machine-readable code, a message for a
// person, and the request parameter at fault when there is one.
type Error struct {
	Code    string
	Message string
	Param   string
	// RetryAfter, when set, is how long the caller should wait before
	// trying again (HTTP's Retry-After).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Param != "" {
		return fmt.Sprintf("%s: %s (param %s)", e.Code, e.Message, e.Param)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming the parameter at fault.
func Invalid(param, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Message: fmt.Sprintf(format, args...), Param: param}
}

// NotFound returns an ENOTFOUND error for the object kind and id.
func NotFound(kind, id string) *Error {
	return &Error{Code: ENOTFOUND, Message: fmt.Sprintf("no such %s: %q", kind, id), Param: "id"}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the message of the first *Error in err's chain, and a
// generic message for internal errors so that their details stay in the logs.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "Internal error."
	}
}

// ErrorParam returns the parameter named by the first *Error in err's chain.
func ErrorParam(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Param
	}
	return ""
}

// ErrorRetryAfter returns how long err says to wait before retrying, 0 when
// it says nothing.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// FormatBytes writes a size the way limits are stated: "4 KiB", "10 MiB".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
