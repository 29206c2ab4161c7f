package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httperr"
)

// fuzzLimit is the body cap of the fuzzed decodes: small, so that the
// fuzzer reaches it.
const fuzzLimit = 512

// decodeTargets are the request bodies the API decodes, one of each.
var decodeTargets = []func() any{
	func() any { return new(app.EndpointParams) },
	func() any { return new(app.SourceParams) },
	func() any { return new(app.ConnectionParams) },
	func() any { return new(app.RotateParams) },
	func() any { return new(app.ReplayParams) },
	func() any {
		return new(struct {
			Type   string          `json:"type"`
			Data   json.RawMessage `json:"data"`
			Tenant string          `json:"tenant"`
		})
	},
}

// FuzzDecode feeds the API's one decode helper arbitrary bodies for every
// kind of request body. It never panics; it accepts only a body that is
// one JSON value (or, when the body is optional, white space) within the
// cap; and every refusal is a 400 with a message, or a 413 for a body past
// the cap, as the error table maps it. The seeds run as an ordinary test.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"url": "https://example.test/hooks", "enabled_events": ["invoice.*"], "metadata": {"a": "b"}}`,
		`{"name": "stripe", "type": "stripe", "secret": "whsec_x", "options": {"tolerance_seconds": 300}, "limits": {"allowed_ips": ["192.0.2.0/24"]}}`,
		`{"source_id": "src_1", "url": "listen://dev1", "filter": {"body.type": "x"}}`,
		`{"secret": "whsec_x", "overlap_seconds": 60}`,
		`{"type": "a.b", "data": {"n": [1, 2, {"x": null}]}, "tenant": "acme"}`,
		`{"type": "a.b", "data": "\ud800"}`,
		`{"url": 5}`, `{"enabled_events": "x"}`, `{"nope": 1}`, `{"url": "x"} {"url": "y"}`, `{"url": "x"} trailing`,
		`{"a":`, `[`, `nul`, `"\xff"`, "", "   \n\t", `null`, `[]`, `{"metadata": {"k": 1}}`,
		`{"overlap_seconds": 1e400}`, `{"overlap_seconds": -1.5}`,
		`{"tenant": "a\u0000"}`, `{"metadata": {"\u0000": "b"}}`, `{"type": "a.b", "data": "\u0000"}`,
		`{"description": "` + strings.Repeat("x", fuzzLimit) + `"}`,
	} {
		for target := range decodeTargets {
			f.Add([]byte(seed), uint8(target), seed == "")
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, target uint8, optional bool) {
		v := decodeTargets[int(target)%len(decodeTargets)]()
		req := httptest.NewRequest("POST", "/v1/x", bytes.NewReader(body))
		err := decode(httptest.NewRecorder(), req, fuzzLimit, v, optional)
		if err == nil {
			blank := len(bytes.TrimSpace(body)) == 0
			if len(body) > fuzzLimit || (blank && !optional) || (!blank && !json.Valid(body)) {
				t.Fatalf("decode accepted %q (optional %v) into %T", body, optional, v)
			}
			return
		}
		status, out := httperr.Of(err)
		switch {
		case status == http.StatusRequestEntityTooLarge && len(body) > fuzzLimit:
		case status == http.StatusBadRequest && hookline.ErrorCode(err) == hookline.EINVALID && out.Error.Message != "":
		default:
			t.Fatalf("decode of %q into %T: %d %+v (%v)", body, v, status, out, err)
		}
	})
}
