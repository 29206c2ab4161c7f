package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/hookline/hookline/internal/hookline"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// jsonContentType is the Content-Type header value of every JSON answer;
// shared, since an http.Header value slice is only read once set.
var jsonContentType = []string{"application/json"}

// writeRaw writes an already-encoded JSON body.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte{'\n'})
}

// decode reads a JSON request body into v: capped, unknown fields refused,
// and every failure an EINVALID or ETOOLARGE error naming what is wrong. An
// empty body decodes to nothing when optional. A decoded string holding
// NUL is refused (checkNUL).
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any, optional bool) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return err // mapped to 413 by Error
		case err == io.EOF: // nothing but white space
			if optional {
				return nil
			}
			return hookline.Invalid("", "request body is empty; expected a JSON object")
		}
		return decodeError(err, v)
	}
	// Only white space may follow, up to the limit.
	if _, err := dec.Token(); err != io.EOF {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return hookline.Invalid("", "request body has data after the JSON object")
	}
	return checkNUL(v)
}

func decodeError(err error, v any) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var appErr *hookline.Error
	switch {
	case errors.As(err, &appErr):
		return err // from the body itself: one that arrived too slowly (408)
	case errors.As(err, &syntax):
		return hookline.Invalid("", "malformed JSON at byte %d: %v", syntax.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return hookline.Invalid("", "malformed JSON: the body ends too soon")
	case errors.As(err, &typ), strings.HasPrefix(err.Error(), "json: unknown field "):
		// Worded once for the body and the nested values the
		// application decodes from it (hookline.DecodeStrict).
		return hookline.JSONError(err, "", v)
	}
	return hookline.Invalid("", "malformed JSON: %v", err)
}

func fieldName(f string) string {
	if f == "" {
		return "the body"
	}
	return f
}

// page reads limit and starting_after.
func page(r *http.Request) (hookline.Page, error) {
	q := r.URL.Query()
	p := hookline.Page{Limit: 10, StartingAfter: q.Get("starting_after")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return p, hookline.Invalid("limit", "limit must be a whole number from 1 to 100")
		}
		p.Limit = n
	}
	return p, nil
}
