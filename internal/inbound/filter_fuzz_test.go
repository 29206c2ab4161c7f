package inbound

import (
	"net/http"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/hookline"
)

// FuzzRequestFilter parses arbitrary connection filters and matches them
// against arbitrary requests (JSON, form and other bodies, headers, query
// strings). A filter parses or is refused as EINVALID on "filter"; a
// parsed one matches exactly when it explains no failure, and its stored
// JSON decides the same. The seeds run as an ordinary test.
func FuzzRequestFilter(f *testing.F) {
	for _, seed := range []struct{ filter, method, path, query, header, contentType, body string }{
		{`{"body.type": {"in": ["payment_intent.*", "charge.succeeded"]}}`, "POST", "/in/src_1", "", "", "application/json", `{"type": "payment_intent.created"}`},
		{`{"headers.x-github-event": "push", "query.env": {"exists": true}}`, "POST", "/in/src_1", "env=prod", "push", "application/json", `{}`},
		{`{"body.data.object.currency": {"prefix": "eu"}}`, "POST", "/", "", "", "application/json; charset=utf-8", `{"data": {"object": {"currency": "eur"}}}`},
		{`{"body.Digits": "1234", "method": "POST"}`, "POST", "/in/x", "", "", "application/x-www-form-urlencoded", "Digits=1234&To=%2B1"},
		{`{"body.0.n": 1}`, "PUT", "/a/b", "a=%zz", "", "application/json", `[{"n": 1.0}]`},
		{`{"path": {"prefix": "/in/"}, "body.x": {"exists": false}}`, "GET", "/in/src_1/extra", "", "", "text/plain", "not json"},
		{`{"body.a.b": {"equals": [1, {"c": null}]}}`, "POST", "/", "", "", "", `{"a": {"b": [1, {"c": null}]}}`},
		{`{"status": 200}`, "POST", "/", "", "", "", `{}`},
		{`{"headers.": {"in": 5}}`, "POST", "/", "", "", "", `{}`},
		{`{"body.x": {"prefix": 1}}`, "POST", "/", "", "", "", `{}`},
		{`"just a string"`, "POST", "/", "", "", "", `{}`},
		{"{\"body.x\": {\"prefix\": \"\xff\"}}", "POST", "/", "", "", "application/json", `{"x": "\ufffd"}`},
		{`{"query.a": "1"} trailing`, "POST", "/", "a=1&a=2", "", "", "\xff\xfe"},
	} {
		f.Add(seed.filter, seed.method, seed.path, seed.query, seed.header, seed.contentType, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, filter, method, path, query, header, contentType string, body []byte) {
		flt, err := ParseFilter([]byte(filter))
		if err != nil {
			if hookline.ErrorCode(err) != hookline.EINVALID || hookline.ErrorParam(err) != "filter" {
				t.Fatalf("ParseFilter(%q) = %v; want EINVALID on filter", filter, err)
			}
			return
		}
		if !utf8.Valid(flt.JSON()) {
			t.Fatalf("ParseFilter(%q) accepted a filter whose stored form %q is not UTF-8", filter, flt.JSON())
		}
		in := func() *Input {
			return &Input{Method: method, Path: path, Query: query, Body: body,
				Header: http.Header{"Content-Type": {contentType}, "X-Github-Event": {header}}}
		}
		match, why := flt.Match(in()), flt.Explain(in())
		if match != (len(why) == 0) {
			t.Fatalf("filter %q on %q: Match %v but Explain %q", filter, body, match, why)
		}
		again, err := ParseFilter(flt.JSON())
		if err != nil {
			t.Fatalf("the stored form %q of %q does not parse: %v", flt.JSON(), filter, err)
		}
		if again.Match(in()) != match || !slices.Equal(again.Explain(in()), why) {
			t.Fatalf("filter %q and its stored form %q decide %q differently", filter, flt.JSON(), body)
		}
	})
}
