package inbound

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/hookline/hookline/internal/hookline"
)

// Filter decides which requests a connection forwards. Its JSON form is an
// object from field to condition, all of which must hold:
//
//	{"body.type": {"in": ["payment_intent.*", "charge.succeeded"]},
//	 "headers.x-github-event": "push",
//	 "query.env": {"exists": true},
//	 "body.data.object.currency": {"prefix": "eu"}}
//
// Fields are headers.<name> (any case), query.<name>, body.<path> (a JSON
// body's fields by dotted path, array elements by index, or a form body's
// fields), method and path. A condition is {"equals": v}, {"in": [v…]},
// {"exists": bool} or {"prefix": "s"}; a bare value means equals and a bare
// array means in. In "in", a string ending in "*" matches by prefix.
type Filter struct {
	conds []condition // sorted by field, for a stable order
}

type condition struct {
	field  string
	op     string // equals, in, exists, prefix
	values []any  // equals: one; in: many; prefix: one string
	exists bool
}

// ParseFilter parses a filter's JSON; empty, null and {} match everything.
// Errors are EINVALID, naming the field at fault.
func ParseFilter(raw []byte) (*Filter, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return &Filter{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, hookline.Invalid("filter", "filter must be a JSON object of field → condition: %v", err)
	}
	f := &Filter{}
	for field, spec := range m {
		if err := checkField(field); err != nil {
			return nil, err
		}
		c := condition{field: field}
		switch v := spec.(type) {
		case []any:
			c.op, c.values = "in", v
		case map[string]any:
			if len(v) != 1 {
				return nil, hookline.Invalid("filter", "condition on %s must have exactly one of equals, in, exists, prefix", field)
			}
			for op, arg := range v {
				c.op = op
				switch op {
				case "equals":
					c.values = []any{arg}
				case "in":
					list, ok := arg.([]any)
					if !ok {
						return nil, hookline.Invalid("filter", "%s: in takes an array", field)
					}
					c.values = list
				case "exists":
					b, ok := arg.(bool)
					if !ok {
						return nil, hookline.Invalid("filter", "%s: exists takes true or false", field)
					}
					c.exists = b
				case "prefix":
					s, ok := arg.(string)
					if !ok {
						return nil, hookline.Invalid("filter", "%s: prefix takes a string", field)
					}
					c.values = []any{s}
				default:
					return nil, hookline.Invalid("filter", "%s: unknown operator %q; use equals, in, exists or prefix", field, op)
				}
			}
		default:
			c.op, c.values = "equals", []any{v}
		}
		f.conds = append(f.conds, c)
	}
	sort.Slice(f.conds, func(i, j int) bool { return f.conds[i].field < f.conds[j].field })
	return f, nil
}

func checkField(field string) error {
	switch {
	case field == "method" || field == "path":
		return nil
	case strings.HasPrefix(field, "headers.") && len(field) > len("headers."),
		strings.HasPrefix(field, "query.") && len(field) > len("query."),
		strings.HasPrefix(field, "body.") && len(field) > len("body."):
		return nil
	}
	return hookline.Invalid("filter", "filter field %q must be method, path, headers.<name>, query.<name> or body.<path>", field)
}

// Input is what a filter looks at.
type Input struct {
	Method string
	Path   string
	Query  string // raw
	Header http.Header
	Body   []byte

	bodyParsed bool
	body       any
	query      url.Values
}

// Match reports whether in satisfies every condition.
func (f *Filter) Match(in *Input) bool {
	for _, c := range f.conds {
		v, ok := in.lookup(c.field)
		if !c.holds(v, ok) {
			return false
		}
	}
	return true
}

// Empty reports whether the filter matches everything.
func (f *Filter) Empty() bool { return len(f.conds) == 0 }

func (in *Input) lookup(field string) (any, bool) {
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
		in.body = parseBody(in.Header.Get("Content-Type"), in.Body)
	}
	cur := in.body
	for _, part := range strings.Split(strings.TrimPrefix(field, "body."), ".") {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[part]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
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

func (c *condition) holds(v any, present bool) bool {
	switch c.op {
	case "exists":
		return present == c.exists
	case "equals":
		return present && equal(v, c.values[0])
	case "prefix":
		s, ok := v.(string)
		return present && ok && strings.HasPrefix(s, c.values[0].(string))
	case "in":
		if !present {
			return false
		}
		for _, want := range c.values {
			if w, ok := want.(string); ok && strings.HasSuffix(w, "*") {
				if s, ok := v.(string); ok && strings.HasPrefix(s, strings.TrimSuffix(w, "*")) {
					return true
				}
				continue
			}
			if equal(v, want) {
				return true
			}
		}
	}
	return false
}

// equal compares JSON values: numbers by value, strings and booleans
// exactly, and a header's or query's string against a number or boolean by
// its text.
func equal(got, want any) bool {
	switch w := want.(type) {
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			s, isStr := got.(string)
			if !isStr {
				return false
			}
			g = json.Number(s)
		}
		a, err1 := strconv.ParseFloat(string(g), 64)
		b, err2 := strconv.ParseFloat(string(w), 64)
		return err1 == nil && err2 == nil && a == b
	case string:
		g, ok := got.(string)
		return ok && g == w
	case bool:
		switch g := got.(type) {
		case bool:
			return g == w
		case string:
			return g == strconv.FormatBool(w)
		}
		return false
	case nil:
		return got == nil
	}
	return fmt.Sprint(got) == fmt.Sprint(want)
}
