package hookline

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzEventFilter parses arbitrary filters and matches them against
// arbitrary event data. A filter either parses or is refused as EINVALID
// on "filter"; a parsed one matches exactly when it explains no failure,
// and its stored JSON parses back to a filter that decides the same. The
// seeds run as an ordinary test.
func FuzzEventFilter(f *testing.F) {
	for _, seed := range []struct{ filter, typ, tenant, data string }{
		{`{"data.amount": {"in": [100, 200]}, "tenant": {"exists": true}}`, "invoice.paid", "acme", `{"amount": 100}`},
		{`{"type": {"in": ["invoice.*", "charge.succeeded"]}}`, "invoice.paid", "", `{}`},
		{`{"data.customer.country": {"prefix": "D"}}`, "a.b", "", `{"customer": {"country": "DE"}}`},
		{`{"data.items.1.sku": "x-2"}`, "a.b", "", `{"items": [{"sku": "x-1"}, {"sku": "x-2"}]}`},
		{`{"data.n": 1.0}`, "a.b", "", `{"n": 1}`},
		{`{"data.n": {"equals": null}}`, "a.b", "", `{"n": null}`},
		{`{"data.flag": {"exists": false}}`, "a.b", "t", `[1, 2]`},
		{`{"data": {"equals": {"a": [1]}}}`, "a.b", "", `{"a": [1]}`},
		{`{"type": {"bogus": 1}}`, "a.b", "", `{}`},
		{`{"headers.x": "y"}`, "a.b", "", `{}`},
		{`{"data.a": {"in": "notalist"}}`, "a.b", "", `{}`},
		{`[1, 2]`, "a.b", "", `{}`},
		{`null`, "a.b", "", `"s"`},
		{`{"data.":"",  "data..":{"prefix":""}}`, "a.b", "", `{"": {"": ""}}`},
		{"{\"data.x\": \"\xff\"}", "a.b", "", `{"x": "\ufffd"}`},
		// Number pairs, for the comparison against big.Rat.
		{"9007199254740993", "", "", "9007199254740992.0"},
		{"9.007199254740993e15", "", "", "9007199254740993"},
		{"1e400", "", "", "10e399"},
		{"-0.0", "", "", "0e-7"},
		{"1000.00", "", "", "1E+3"},
		{"-120e-3", "", "", "-0.12"},
		{"0.1", "", "", "0.01"},
		{"-2.5", "", "", "2.5"},
	} {
		f.Add(seed.filter, seed.typ, seed.tenant, seed.data)
	}
	f.Fuzz(func(t *testing.T, filter, typ, tenant, data string) {
		// Two numbers (filter and data) compare as big.Rat does, and a
		// filter on one matches data holding the other exactly then.
		if want, ok := sameNumberByRat(filter, data); ok {
			if got := sameNumber(filter, data); got != want {
				t.Fatalf("sameNumber(%s, %s) = %v; big.Rat says %v", filter, data, got, want)
			}
			if json.Valid([]byte(filter)) && json.Valid([]byte(data)) { // no leading zeros
				numberFilter, err := ParseFilter([]byte(`{"data.n": `+filter+`}`), EventFilterFields)
				if err != nil {
					t.Fatalf("filter on the number %s: %v", filter, err)
				}
				p, err := NewEventPayload("evt_fuzz", "a.b", time.Unix(1, 0), "", json.RawMessage(`{"n": `+data+`}`))
				if err != nil {
					t.Fatalf("data holding the number %s: %v", data, err)
				}
				if got := numberFilter.Match(&EventDocument{Event: &Event{Type: "a.b", Payload: p}}); got != want {
					t.Fatalf("filter {\"data.n\": %s} on {\"n\": %s}: Match %v; big.Rat says equal is %v", filter, data, got, want)
				}
			}
		}
		flt, err := ParseFilter([]byte(filter), EventFilterFields)
		if err != nil {
			if ErrorCode(err) != EINVALID || ErrorParam(err) != "filter" {
				t.Fatalf("ParseFilter(%q) = %v; want EINVALID on filter", filter, err)
			}
			return
		}
		if !utf8.Valid(flt.JSON()) {
			// Stored in a text column, which PostgreSQL keeps UTF-8.
			t.Fatalf("ParseFilter(%q) accepted a filter whose stored form %q is not UTF-8", filter, flt.JSON())
		}
		payload, err := NewEventPayload("evt_fuzz", typ, time.Unix(1, 0), tenant, json.RawMessage(data))
		if err != nil {
			return // not JSON: never stored, never matched
		}
		doc := func() Document { return &EventDocument{Event: &Event{Type: typ, Tenant: tenant, Payload: payload}} }
		match, why := flt.Match(doc()), flt.Explain(doc())
		if match != (len(why) == 0) {
			t.Fatalf("filter %q on %q: Match %v but Explain %q", filter, data, match, why)
		}
		again, err := ParseFilter(flt.JSON(), EventFilterFields)
		if err != nil {
			t.Fatalf("the stored form %q of %q does not parse: %v", flt.JSON(), filter, err)
		}
		if again.Match(doc()) != match || !slices.Equal(again.Explain(doc()), why) {
			t.Fatalf("filter %q and its stored form %q decide %q differently", filter, flt.JSON(), data)
		}
	})
}
