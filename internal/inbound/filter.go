package inbound

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/hookline/hookline/internal/hookline"
)

// RequestFilterFields are the fields a connection's filter may name:
// headers.<name> (any case), query.<name>, body.<path> (a JSON body's fields
// by dotted path, array elements by index, or a form body's fields), method
// and path. The language itself is hookline.Filter, shared with endpoints.
var RequestFilterFields = hookline.FilterFields{
	Names:    []string{"method", "path"},
	Prefixes: []string{"headers.", "query.", "body."},
}

// ParseFilter parses a connection's filter, for example
//
//	{"body.type": {"in": ["payment_intent.*", "charge.succeeded"]},
//	 "headers.x-github-event": "push",
//	 "query.env": {"exists": true},
//	 "body.data.object.currency": {"prefix": "eu"}}
//
// Empty, null and {} match everything. Errors are EINVALID, naming the field
// at fault.
func ParseFilter(raw []byte) (*hookline.Filter, error) {
	return hookline.ParseFilter(raw, RequestFilterFields)
}

// Input is what a connection's filter looks at: a captured request.
type Input struct {
	Method string
	Path   string
	Query  string // raw
	Header http.Header
	Body   []byte
	// Pieces is the body in the pieces it was read in, when Body is nil:
	// they are joined only if a filter looks into the body.
	Pieces Body

	bodyParsed bool
	body       any
	query      url.Values
}

var _ hookline.Document = (*Input)(nil)

// Lookup returns the value of one of RequestFilterFields.
func (in *Input) Lookup(field string) (any, bool) {
	switch {
	case field == "method":
		return in.Method, true
	case field == "path":
		return in.Path, true
	case strings.HasPrefix(field, "headers."):
		vals := in.Header.Values(strings.TrimPrefix(field, "headers."))
		if len(vals) == 0 {
			return nil, false
		}
		return vals[0], true
	case strings.HasPrefix(field, "query."):
		if in.query == nil {
			in.query, _ = url.ParseQuery(in.Query)
		}
		vals, ok := in.query[strings.TrimPrefix(field, "query.")]
		if !ok || len(vals) == 0 {
			return nil, false
		}
		return vals[0], true
	}
	if !in.bodyParsed {
		in.bodyParsed = true
		body := in.Body
		if body == nil {
			body = in.Pieces.Bytes()
		}
		in.body = parseBody(in.Header.Get("Content-Type"), body)
	}
	return hookline.LookupPath(in.body, strings.TrimPrefix(field, "body."))
}

// parseBody reads a JSON or form body into maps; anything else is nil.
func parseBody(contentType string, body []byte) any {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil
		}
		m := make(map[string]any, len(form))
		for k, v := range form {
			m[k] = v[0]
		}
		return m
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}
