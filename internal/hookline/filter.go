package hookline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Filter is Hookline's one filter language, shared by inbound connections
// (which requests they forward) and endpoints (which events they receive).
// Its JSON form is an object from field to condition, all of which must hold:
//
//	{"type": {"in": ["invoice.*", "charge.succeeded"]},
//	 "data.object.currency": {"prefix": "eu"},
//	 "data.livemode": true,
//	 "tenant": {"exists": true}}
//
// A condition is {"equals": v}, {"in": [v…]}, {"exists": bool} or
// {"prefix": "s"}; a bare value means equals and a bare array means in. In
// "in", a string ending in "*" matches by prefix. Which fields there are
// depends on what is filtered (FilterFields): an endpoint's filter looks at
// type, tenant and data.<path>; a connection's at method, path,
// headers.<name>, query.<name> and body.<path>. Paths are dotted, array
// elements by index.
type Filter struct {
	conds []condition // sorted by field, for a stable order
	raw   json.RawMessage
}

type condition struct {
	field  string
	op     string // equals, in, exists, prefix
	values []any  // equals: one; in: many; prefix: one string
	exists bool
	spec   any // the condition as written, for explanations
}

// FilterFields says which fields a filter may name: these names exactly,
// and anything under these prefixes (each ending in ".").
type FilterFields struct {
	Names    []string
	Prefixes []string
}

// EventFilterFields are the fields of an endpoint's filter: the event's
// type and tenant, and paths into its data.
var EventFilterFields = FilterFields{Names: []string{"type", "tenant"}, Prefixes: []string{"data."}}

// maxFilterConditions bounds a filter, so that a stored one stays cheap to
// check at every fan-out.
const maxFilterConditions = 50

// ParseFilter parses a filter's JSON; empty, null and {} match everything.
// Errors are EINVALID with param "filter", naming the field at fault.
func ParseFilter(raw []byte, fields FilterFields) (*Filter, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return &Filter{}, nil
	}
	if !utf8.Valid(raw) {
		// Decoding would replace the bad bytes, but the filter is stored
		// as written: PostgreSQL refuses invalid UTF-8 in text.
		return nil, Invalid("filter", "filter is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return nil, Invalid("filter", "filter must be a JSON object of field → condition, like {\"type\": \"invoice.paid\"}, not %s", article(typ.Value))
		}
		return nil, JSONError(err, "filter", &m)
	}
	if len(m) > maxFilterConditions {
		return nil, Invalid("filter", "filter has more than %d conditions", maxFilterConditions)
	}
	f := &Filter{}
	for field, spec := range m {
		if err := fields.check(field); err != nil {
			return nil, err
		}
		c := condition{field: field, spec: spec}
		switch v := spec.(type) {
		case []any:
			c.op, c.values = "in", v
		case map[string]any:
			if len(v) != 1 {
				return nil, Invalid("filter", "condition on %s must have exactly one of equals, in, exists, prefix", field)
			}
			for op, arg := range v {
				c.op = op
				switch op {
				case "equals":
					c.values = []any{arg}
				case "in":
					list, ok := arg.([]any)
					if !ok {
						return nil, Invalid("filter", "%s: in takes an array", field)
					}
					c.values = list
				case "exists":
					b, ok := arg.(bool)
					if !ok {
						return nil, Invalid("filter", "%s: exists takes true or false", field)
					}
					c.exists = b
				case "prefix":
					s, ok := arg.(string)
					if !ok {
						return nil, Invalid("filter", "%s: prefix takes a string", field)
					}
					c.values = []any{s}
				default:
					return nil, Invalid("filter", "%s: unknown operator %q; use equals, in, exists or prefix", field, op)
				}
			}
		default:
			c.op, c.values = "equals", []any{v}
		}
		f.conds = append(f.conds, c)
	}
	sort.Slice(f.conds, func(i, j int) bool { return f.conds[i].field < f.conds[j].field })
	if len(f.conds) > 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, Invalid("filter", "filter is not valid JSON: %v", err)
		}
		f.raw = buf.Bytes()
	}
	return f, nil
}

func (fs FilterFields) check(field string) error {
	for _, n := range fs.Names {
		if field == n {
			return nil
		}
	}
	for _, p := range fs.Prefixes {
		if strings.HasPrefix(field, p) && len(field) > len(p) {
			return nil
		}
	}
	var want []string
	want = append(want, fs.Names...)
	for _, p := range fs.Prefixes {
		want = append(want, p+"<path>")
	}
	return Invalid("filter", "filter field %q must be one of %s", field, strings.Join(want, ", "))
}

// Document is what a filter looks at: the value of a field, and whether it
// is present.
type Document interface {
	Lookup(field string) (any, bool)
}

// Match reports whether d satisfies every condition. A nil filter matches
// everything.
func (f *Filter) Match(d Document) bool {
	if f == nil {
		return true
	}
	for _, c := range f.conds {
		v, ok := d.Lookup(c.field)
		if !c.holds(v, ok) {
			return false
		}
	}
	return true
}

// Explain returns, for each condition d does not satisfy, a sentence saying
// what the field held and what the condition wanted; none when d matches.
func (f *Filter) Explain(d Document) []string {
	if f == nil {
		return nil
	}
	var out []string
	for _, c := range f.conds {
		v, ok := d.Lookup(c.field)
		if c.holds(v, ok) {
			continue
		}
		want, _ := json.Marshal(c.spec)
		if !ok {
			out = append(out, fmt.Sprintf("%s is missing; the filter wants %s", c.field, want))
			continue
		}
		got, _ := json.Marshal(v)
		out = append(out, fmt.Sprintf("%s is %s; the filter wants %s", c.field, got, want))
	}
	return out
}

// Empty reports whether the filter matches everything.
func (f *Filter) Empty() bool { return f == nil || len(f.conds) == 0 }

// JSON returns the filter as compact JSON, nil when it is empty.
func (f *Filter) JSON() json.RawMessage {
	if f.Empty() {
		return nil
	}
	return f.raw
}

// LookupPath walks a dotted path (map keys, array indexes) into a decoded
// JSON value.
func LookupPath(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[part]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// EventDocument is what an endpoint's filter sees of an event: its type,
// its tenant (missing when it has none) and its data, decoded from the
// payload when a condition first asks for it.
type EventDocument struct {
	Event   *Event
	parsed  bool
	data    any
	hasData bool
}

// Lookup returns the value of type, tenant or data.<path>.
func (d *EventDocument) Lookup(field string) (any, bool) {
	switch field {
	case "type":
		return d.Event.Type, true
	case "tenant":
		return d.Event.Tenant, d.Event.Tenant != ""
	}
	path, ok := strings.CutPrefix(field, "data.")
	if !ok {
		return nil, false
	}
	if !d.parsed {
		d.parsed = true
		var p struct {
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(d.Event.Payload, &p) == nil && len(p.Data) > 0 {
			dec := json.NewDecoder(bytes.NewReader(p.Data))
			dec.UseNumber()
			d.hasData = dec.Decode(&d.data) == nil
		}
	}
	if !d.hasData {
		return nil, false
	}
	return LookupPath(d.data, path)
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

// sameNumber reports whether two JSON number literals have the same value,
// exactly, whatever their form: 1e3, 1000, 1000.0 and 10e2 are one number,
// -0 is 0, and 12345678901234567890 is not …891 (float64 cannot tell them
// apart, and ids and amounts past 2^53 are common in webhook payloads).
// Each side is reduced to its sign, its significant digits and the decimal
// exponent of the first of them, so that 1e999999999 costs no more than 1;
// no big number is ever built. Linear in the length and allocating nothing
// for exponents that fit in 18 digits, as it runs at every fan-out. A
// header's or query's text that is not a number (leading zeros allowed)
// equals no number.
func sameNumber(a, b string) bool {
	x, ok1 := parseDecimal(a)
	y, ok2 := parseDecimal(b)
	if !ok1 || !ok2 {
		return false
	}
	if x.zero() || y.zero() {
		return x.zero() && y.zero()
	}
	if x.neg != y.neg || !x.sameExponent(y) {
		return false
	}
	i, j := x.first, y.first
	for {
		i, j = x.skipPoint(i), y.skipPoint(j)
		if i > x.last || j > y.last {
			return i > x.last && j > y.last
		}
		if x.mant[i] != y.mant[j] {
			return false
		}
		i++
		j++
	}
}

// decimal is a number literal read in place: its value is 0.d₁d₂…dₙ ×
// 10^exp, where d₁…dₙ are the digits of mant from first to last (skipping
// a decimal point), with no leading or trailing zeros.
type decimal struct {
	neg         bool
	mant        string // the literal without its sign and exponent
	point       int    // index of the decimal point in mant, or len(mant)
	first, last int    // indexes of the first and last nonzero digit; first > last for zero
	exp         int64  // valid when bigExp is ""
	bigExp      string // the literal's exponent ("-123…"), when too long for exp
}

// maxExpDigits keeps exponent arithmetic in int64: an exponent below
// 10^18 plus the position of the point (at most the input's length) fits.
const maxExpDigits = 18

// parseDecimal reads a JSON number, allowing leading zeros.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	if strings.HasPrefix(s, "-") {
		d.neg, s = true, s[1:]
	}
	end := strings.IndexAny(s, "eE")
	if end < 0 {
		end = len(s)
	}
	d.mant = s[:end]
	intPart, frac, hasPoint := strings.Cut(d.mant, ".")
	if !allDigits(intPart) || hasPoint && !allDigits(frac) {
		return d, false
	}
	d.point = len(intPart)
	d.first, d.last = len(d.mant), -1
	for i := 0; i < len(d.mant); i++ {
		if c := d.mant[i]; c != '.' && c != '0' {
			d.first = min(d.first, i)
			d.last = i
		}
	}
	var expNeg bool
	var expDigits string
	if end < len(s) {
		expDigits = s[end+1:]
		if expDigits != "" && (expDigits[0] == '+' || expDigits[0] == '-') {
			expNeg, expDigits = expDigits[0] == '-', expDigits[1:]
		}
		if !allDigits(expDigits) {
			return d, false
		}
		expDigits = strings.TrimLeft(expDigits, "0")
	}
	// The first significant digit stands at 10^(point-first-1) in the
	// literal, so 0.d₁… stands one place higher; a point before it takes
	// no place of its own.
	offset := int64(d.point - d.first)
	if d.first > d.point {
		offset++
	}
	if len(expDigits) > maxExpDigits {
		d.bigExp = s[end+1:]
		d.exp = offset
		return d, true
	}
	var e int64
	for i := 0; i < len(expDigits); i++ {
		e = e*10 + int64(expDigits[i]-'0')
	}
	if expNeg {
		e = -e
	}
	d.exp = e + offset
	return d, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (d decimal) zero() bool { return d.first > d.last }

// skipPoint steps over the decimal point, which is no digit.
func (d decimal) skipPoint(i int) int {
	if i == d.point {
		return i + 1
	}
	return i
}

// sameExponent compares the exponents of two nonzero numbers. Only an
// exponent of more than 18 digits, far past any real payload, makes
// big.Int arithmetic on the exponent itself (never on the number).
func (d decimal) sameExponent(o decimal) bool {
	if d.bigExp == "" && o.bigExp == "" {
		return d.exp == o.exp
	}
	return d.bigExponent().Cmp(o.bigExponent()) == 0
}

func (d decimal) bigExponent() *big.Int {
	e := new(big.Int)
	if d.bigExp != "" {
		e.SetString(strings.TrimPrefix(d.bigExp, "+"), 10) // digits checked by parseDecimal
	}
	return e.Add(e, big.NewInt(d.exp))
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
		return sameNumber(string(g), string(w))
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
