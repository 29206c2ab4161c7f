package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/apijson"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
)

// TestDecodeRefusesNUL: a decoded string holding NUL, however deep, is an
// EINVALID naming its JSON path; bytes (event data, a replayed body) keep
// it. The stores' side of it runs in e2e.TestNULRefusedOnBothStores.
func TestDecodeRefusesNUL(t *testing.T) {
	publish := func() any {
		return new(struct {
			Type   string          `json:"type"`
			Data   json.RawMessage `json:"data"`
			Tenant string          `json:"tenant"`
		})
	}
	endpoint := func() any { return new(app.EndpointParams) }
	source := func() any { return new(app.SourceParams) }
	replay := func() any { return new(apijson.ReplayParams) }
	for _, c := range []struct {
		name   string
		target func() any
		body   string
		param  string // "" when the body is accepted
	}{
		{"top-level string", publish, `{"type": "a.b", "tenant": "x\u0000y"}`, "tenant"},
		{"pointer to string", endpoint, `{"description": "\u0000"}`, "description"},
		{"list element", endpoint, `{"enabled_events": ["a.b", "c\u0000"]}`, "enabled_events[1]"},
		{"map value", endpoint, `{"headers": {"X-Ok": "1", "X-Foo": "a\u0000"}}`, "headers[X-Foo]"},
		{"map key", endpoint, `{"metadata": {"k\u0000": "v"}}`, "metadata[k\x00]"},
		{"nested struct", source, `{"name": "s", "type": "none", "options": {"header": "X-\u0000"}}`, "options.header"},
		{"event data is bytes", publish, `{"type": "a.b", "data": {"s": "\u0000", "k\u0000": 1}}`, ""},
		{"a filter is kept as written", endpoint, `{"filter": {"tenant": {"equals": "\u0000"}}}`, ""},
		{"a replayed body is bytes", replay, `{"body": "a\u0000b"}`, ""},
		{"a replayed header is text", replay, `{"headers": {"X-A": "\u0000"}}`, "headers[X-A]"},
		{"no NUL", endpoint, `{"description": "ok", "metadata": {"a": "b"}, "headers": {"X-Foo": "1"}}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/v1/x", strings.NewReader(c.body))
			err := decode(httptest.NewRecorder(), req, 1<<20, c.target(), false)
			if c.param == "" {
				if err != nil {
					t.Fatalf("decode of %s: %v, want it accepted", c.body, err)
				}
				return
			}
			var he *hookline.Error
			if !errors.As(err, &he) || he.Code != hookline.EINVALID || he.Param != c.param || !strings.Contains(he.Message, "NUL") {
				t.Fatalf("decode of %s: %v, want EINVALID naming %q", c.body, err, c.param)
			}
		})
	}
}

// TestRejectNULInURL: a NUL in a JSON route's path, or in a query
// parameter where the query is checked, is an EINVALID naming it, before
// the handler runs.
func TestRejectNULInURL(t *testing.T) {
	for _, c := range []struct {
		target     string
		checkQuery bool
		param      string
	}{
		{"/v1/endpoints?tenant=a%00", true, "tenant"},
		{"/v1/events?limit=5&tenant=%00", true, "tenant"},
		{"/v1/events?x%00=1", true, "x\x00"},
		{"/v1/endpoints/ep_%00", true, "path"},
		{"/v1/events?tenant=acme&limit=5", true, ""},
		{"/in/src_1/a%00b", false, "path"},
		{"/in/src_1?x=%00", false, ""}, // kept as sent
	} {
		ran := false
		h := RejectNUL(func(_ http.ResponseWriter, _ *http.Request) error { ran = true; return nil }, c.checkQuery)
		err := h(httptest.NewRecorder(), httptest.NewRequest("GET", c.target, nil))
		var he *hookline.Error
		switch {
		case c.param == "" && (err != nil || !ran):
			t.Errorf("GET %s: %v (handler ran: %v), want the handler", c.target, err, ran)
		case c.param != "" && (ran || !errors.As(err, &he) || he.Code != hookline.EINVALID || he.Param != c.param):
			t.Errorf("GET %s: %v (handler ran: %v), want EINVALID naming %q", c.target, err, ran, c.param)
		}
	}
}
