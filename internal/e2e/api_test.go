package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param"`
	} `json:"error"`
}

// Bad input gets the right status and a JSON error naming the field.
func TestBadInput(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev", "--max-body", "4096")
	ep := n.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/x"})
	tests := []struct {
		name       string
		key        string
		method     string
		path       string
		body       any
		status     int
		code       string
		param      string
		msgContain string
	}{
		{"malformed JSON", testAPIKey, "POST", "/v1/events", `{"type": "a.b", "data": {`, 400, "invalid_request", "", "malformed JSON"},
		{"missing type", testAPIKey, "POST", "/v1/events", `{"data": {}}`, 400, "invalid_request", "type", "required"},
		{"bad type", testAPIKey, "POST", "/v1/events", `{"type": "a b"}`, 400, "invalid_request", "type", "dot-separated"},
		{"data not an object", testAPIKey, "POST", "/v1/events", `{"type": "a.b", "data": [1]}`, 400, "invalid_request", "data", "object"},
		{"unknown field", testAPIKey, "POST", "/v1/events", `{"type": "a.b", "dta": {}}`, 400, "invalid_request", "dta", "unknown field"},
		{"wrong field type", testAPIKey, "POST", "/v1/endpoints", `{"url": 5}`, 400, "invalid_request", "url", "string"},
		{"empty body", testAPIKey, "POST", "/v1/endpoints", ``, 400, "invalid_request", "", "empty"},
		{"non-http url", testAPIKey, "POST", "/v1/endpoints", `{"url": "ftp://example.com/x"}`, 400, "invalid_request", "url", "http"},
		{"relative url", testAPIKey, "POST", "/v1/endpoints", `{"url": "/hooks"}`, 400, "invalid_request", "url", "absolute"},
		{"missing url", testAPIKey, "POST", "/v1/endpoints", `{"description": "x"}`, 400, "invalid_request", "url", "required"},
		{"bad pattern", testAPIKey, "POST", "/v1/endpoints", `{"url": "http://127.0.0.1:9/x", "enabled_events": ["*.paid"]}`, 400, "invalid_request", "enabled_events[0]", "wildcard"},
		{"bad scheme", testAPIKey, "POST", "/v1/endpoints", `{"url": "http://127.0.0.1:9/x", "signature_scheme": "md5"}`, 400, "invalid_request", "signature_scheme", "standard"},
		{"bad status", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"status": "paused"}`, 400, "invalid_request", "status", "enabled"},
		{"bad limit", testAPIKey, "GET", "/v1/events?limit=1000", nil, 400, "invalid_request", "limit", "1 to 100"},
		{"reserved type", testAPIKey, "POST", "/v1/events", `{"type": "hookline.endpoint.disabled"}`, 400, "invalid_request", "type", "operational"},
		{"filter not an object", testAPIKey, "POST", "/v1/endpoints", `{"url": "http://127.0.0.1:9/x", "filter": [1]}`, 400, "invalid_request", "filter", "JSON object"},
		{"filter field", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"filter": {"body.x": 1}}`, 400, "invalid_request", "filter", `"body.x"`},
		{"filter operator", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"filter": {"data.x": {"like": 1}}}`, 400, "invalid_request", "filter", "unknown operator"},
		{"signature header", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"headers": {"Webhook-Signature": "v1,x"}}`, 400, "invalid_request", "headers[Webhook-Signature]", "cannot be overridden"},
		{"any webhook-* header", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"headers": {"webhook-foo": "x"}}`, 400, "invalid_request", "headers[webhook-foo]", "signature"},
		{"transport header", testAPIKey, "POST", "/v1/endpoints", `{"url": "http://127.0.0.1:9/x", "headers": {"Accept-Encoding": "br"}}`, 400, "invalid_request", "headers[Accept-Encoding]", "transport"},
		{"header names differing in case", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"headers": {"x-a": "1", "X-A": "2"}}`, 400, "invalid_request", "headers[X-A]", "differ only in case"},
		{"header name", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"headers": {"Bad Name": "x"}}`, 400, "invalid_request", "headers[Bad Name]", "header name"},
		{"header value", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"headers": {"X-A": "a\r\nX-B: b"}}`, 400, "invalid_request", "headers[X-A]", "control character"},
		{"negative retry", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"retry_schedule": ["1s", "-5s"]}`, 400, "invalid_request", "retry_schedule[1]", "negative"},
		{"retry not a duration", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"retry_schedule": ["soon"]}`, 400, "invalid_request", "retry_schedule[0]", "duration"},
		{"retry not a list", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"retry_schedule": "5s"}`, 400, "invalid_request", "retry_schedule", "array"},
		{"zero concurrency", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"max_concurrency": 0}`, 400, "invalid_request", "max_concurrency", "from 1 to 1000"},
		{"negative concurrency", testAPIKey, "POST", "/v1/endpoints", `{"url": "http://127.0.0.1:9/x", "max_concurrency": -3}`, 400, "invalid_request", "max_concurrency", "from 1 to 1000"},
		{"too much concurrency", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"max_concurrency": 1001}`, 400, "invalid_request", "max_concurrency", "from 1 to 1000"},
		{"fractional concurrency", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"max_concurrency": 2.5}`, 400, "invalid_request", "max_concurrency", "whole number"},
		{"concurrency not a number", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"max_concurrency": "10"}`, 400, "invalid_request", "max_concurrency", "whole number"},
		{"zero timeout", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"timeout_seconds": 0}`, 400, "invalid_request", "timeout_seconds", "from 1 to 300"},
		{"negative timeout", testAPIKey, "POST", "/v1/endpoints", `{"url": "http://127.0.0.1:9/x", "timeout_seconds": -1}`, 400, "invalid_request", "timeout_seconds", "from 1 to 300"},
		{"too long a timeout", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"timeout_seconds": 301}`, 400, "invalid_request", "timeout_seconds", "from 1 to 300"},
		{"unknown ordering", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"ordering": "lifo"}`, 400, "invalid_request", "ordering", `"fifo" or "unordered"`},
		{"ordering not a string", testAPIKey, "POST", "/v1/endpoints", `{"url": "http://127.0.0.1:9/x", "ordering": 1}`, 400, "invalid_request", "ordering", `"fifo" or "unordered"`},
		{"zero rate", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"rate_limit": {"per_second": 0}}`, 400, "invalid_request", "rate_limit.per_second", "above 0"},
		{"negative rate", testAPIKey, "POST", "/v1/endpoints", `{"url": "http://127.0.0.1:9/x", "rate_limit": {"per_second": -5}}`, 400, "invalid_request", "rate_limit.per_second", "above 0"},
		{"rate without per_second", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"rate_limit": {"burst": 5}}`, 400, "invalid_request", "rate_limit.per_second", "above 0"},
		{"zero burst", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"rate_limit": {"per_second": 5, "burst": 0}}`, 400, "invalid_request", "rate_limit.burst", "from 1 to"},
		{"negative burst", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"rate_limit": {"per_second": 5, "burst": -1}}`, 400, "invalid_request", "rate_limit.burst", "from 1 to"},
		{"unknown rate field", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"rate_limit": {"per_second": 5, "per_minute": 3}}`, 400, "invalid_request", "rate_limit.per_minute", `unknown field "rate_limit.per_minute"`},
		{"rate not an object", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"rate_limit": 50}`, 400, "invalid_request", "rate_limit", "per_second"},
		{"negative breaker failures", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"circuit_breaker": {"failures": -1}}`, 400, "invalid_request", "circuit_breaker.failures", "from 0 to 10000"},
		{"too many breaker failures", testAPIKey, "POST", "/v1/endpoints", `{"url": "http://127.0.0.1:9/x", "circuit_breaker": {"failures": 10001}}`, 400, "invalid_request", "circuit_breaker.failures", "from 0 to 10000"},
		{"breaker failures not a number", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"circuit_breaker": {"failures": "ten"}}`, 400, "invalid_request", "circuit_breaker.failures", "whole number"},
		{"breaker not an object", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"circuit_breaker": 10}`, 400, "invalid_request", "circuit_breaker", "object"},
		{"breaker unknown field", testAPIKey, "PATCH", "/v1/endpoints/" + ep.ID, `{"circuit_breaker": {"failures": 3, "cooldown": "1m"}}`, 400, "invalid_request", "circuit_breaker.cooldown", `unknown field "circuit_breaker.cooldown"`},
		{"filter test without event", testAPIKey, "POST", "/v1/filters/test", `{"filter": {"type": "a.b"}}`, 400, "invalid_request", "event", "required"},
		{"filter test without filter", testAPIKey, "POST", "/v1/filters/test", `{"event": {"type": "a.b"}}`, 400, "invalid_request", "filter", "required"},
		{"filter test with a null filter", testAPIKey, "POST", "/v1/filters/test", `{"filter": null, "event": {"type": "a.b"}}`, 400, "invalid_request", "filter", "required"},
		{"filter test event without type", testAPIKey, "POST", "/v1/filters/test", `{"filter": {"type": "a.b"}, "event": {"data": {}}}`, 400, "invalid_request", "event.type", "required"},
		{"filter test bad filter", testAPIKey, "POST", "/v1/filters/test", `{"filter": {"nope": 1}, "event": {"type": "a.b"}}`, 400, "invalid_request", "filter", "nope"},
		{"no key", "", "GET", "/v1/endpoints", nil, 401, "unauthorized", "", "API key"},
		{"wrong key", "hl_sk_wrong_wrong_wrong", "GET", "/v1/endpoints", nil, 401, "unauthorized", "", "API key"},
		{"oversized body", testAPIKey, "POST", "/v1/events", `{"type": "a.b", "data": {"x": "` + strings.Repeat("x", 5000) + `"}}`, 413, "body_too_large", "", "4 KiB"},
		{"white space past the cap", testAPIKey, "POST", "/v1/events", `{"type": "a.b"}` + strings.Repeat(" ", 5000), 413, "body_too_large", "", "4 KiB"},
		{"data after the object", testAPIKey, "POST", "/v1/events", `{"type": "a.b"} {"type": "a.c"}`, 400, "invalid_request", "", "after the JSON object"},
		{"stray brace after the object", testAPIKey, "POST", "/v1/events", `{"type": "a.b"}}garbage`, 400, "invalid_request", "", "after the JSON object"},
		{"only white space", testAPIKey, "POST", "/v1/endpoints", " \n\t ", 400, "invalid_request", "", "empty"},
		{"unknown endpoint", testAPIKey, "GET", "/v1/endpoints/ep_nope", nil, 404, "resource_missing", "id", "ep_nope"},
		{"unknown event", testAPIKey, "GET", "/v1/events/evt_nope", nil, 404, "resource_missing", "id", "evt_nope"},
		{"unknown route", testAPIKey, "GET", "/v1/nothing", nil, 404, "resource_missing", "", "no route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := n.callKey(tt.key, tt.method, tt.path, tt.body, nil, nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, raw)
			}
			var e apiError
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatalf("error body is not JSON: %s", raw)
			}
			if e.Error.Code != tt.code || e.Error.Param != tt.param || !strings.Contains(e.Error.Message, tt.msgContain) {
				t.Fatalf("error %+v, want code %q param %q and a message containing %q", e.Error, tt.code, tt.param, tt.msgContain)
			}
		})
	}
	// Nothing rejected above was stored.
	var l struct {
		Data []json.RawMessage `json:"data"`
	}
	n.must(200, "GET", "/v1/events", nil, &l)
	if len(l.Data) != 0 {
		t.Errorf("rejected publishes left %d events", len(l.Data))
	}
}

// Bad endpoint bodies, the nested ones most, are answered in JSON's words
// naming the field at fault: never a Go type (issue 18, finding 6).
func TestEndpointCreateErrorsSpeakJSON(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	for _, tt := range []struct {
		name, body, param string
	}{
		{"rate limit a number", `{"rate_limit": 50}`, "rate_limit"},
		{"rate limit a string", `{"rate_limit": "50/s"}`, "rate_limit"},
		{"rate limit an array", `{"rate_limit": [50]}`, "rate_limit"},
		{"per_second a string", `{"rate_limit": {"per_second": "50"}}`, "rate_limit.per_second"},
		{"per_second an object", `{"rate_limit": {"per_second": {}}}`, "rate_limit.per_second"},
		{"unknown rate field", `{"rate_limit": {"per_second": 5, "per_minute": 3}}`, "rate_limit.per_minute"},
		{"burst a string", `{"rate_limit": {"per_second": 5, "burst": "9"}}`, "rate_limit.burst"},
		{"filter a string", `{"filter": "x"}`, "filter"},
		{"filter a number", `{"filter": 5}`, "filter"},
		{"filter an array", `{"filter": [1]}`, "filter"},
		{"breaker a number", `{"circuit_breaker": 3}`, "circuit_breaker"},
		{"breaker unknown field", `{"circuit_breaker": {"failures": 3, "cooldown": 5}}`, "circuit_breaker.cooldown"},
		{"breaker failures a string", `{"circuit_breaker": {"failures": "3"}}`, "circuit_breaker.failures"},
		{"headers an array", `{"headers": ["X-A: 1"]}`, "headers"},
		{"header value a number", `{"headers": {"X-A": 1}}`, "headers"},
		{"metadata a string", `{"metadata": "x"}`, "metadata"},
		{"events a string", `{"enabled_events": "*"}`, "enabled_events"},
		{"event a number", `{"enabled_events": [1]}`, "enabled_events"},
		{"retry schedule of numbers", `{"retry_schedule": [5, 10]}`, "retry_schedule"},
		{"ordering an object", `{"ordering": {}}`, "ordering"},
		{"timeout a string", `{"timeout_seconds": "5"}`, "timeout_seconds"},
		{"concurrency a bool", `{"max_concurrency": true}`, "max_concurrency"},
		{"description a number", `{"description": 5}`, "description"},
		{"url an object", `{"url": {}}`, "url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"url": "http://127.0.0.1:9/x", ` + strings.TrimPrefix(tt.body, "{")
			if strings.HasPrefix(tt.body, `{"url"`) {
				body = tt.body
			}
			status, raw := n.call("POST", "/v1/endpoints", body, nil)
			var e apiError
			if err := json.Unmarshal(raw, &e); status != 400 || err != nil {
				t.Fatalf("status %d: %s; want a 400 JSON error", status, raw)
			}
			msg := e.Error.Message
			for _, leak := range []string{"Go value", "interface {}", "struct {", "json:", "*float64", "map[string]"} {
				if strings.Contains(msg, leak) {
					t.Errorf("message %q shows Go's %q", msg, leak)
				}
			}
			if e.Error.Param != tt.param || !strings.Contains(msg, tt.param) {
				t.Errorf("error %+v, want param %q named in the message", e.Error, tt.param)
			}
		})
	}
	// A wrong value inside a map or a list is said to be inside it.
	for body, want := range map[string]string{
		`{"url": "http://127.0.0.1:9/x", "headers": {"X-A": 1}}`:             "every value in headers must be a string, not a number",
		`{"url": "http://127.0.0.1:9/x", "metadata": {"a": true}}`:           "every value in metadata must be a string, not a boolean",
		`{"url": "http://127.0.0.1:9/x", "enabled_events": [1]}`:             "every entry of enabled_events must be a string, not a number",
		`{"url": "http://127.0.0.1:9/x", "enabled_events": "a.b"}`:           "enabled_events must be an array, not a string",
		`{"url": "http://127.0.0.1:9/x", "rate_limit": {"per_second": "5"}}`: "rate_limit.per_second must be a number, not a string",
	} {
		_, raw := n.call("POST", "/v1/endpoints", body, nil)
		var e apiError
		if err := json.Unmarshal(raw, &e); err != nil || !strings.Contains(e.Error.Message, want) {
			t.Errorf("%s: %s, want a message containing %q", body, raw, want)
		}
	}
}

// timeout_seconds is always a whole number, so that what an endpoint shows
// can be written back: a server --timeout below a second shows rounded up
// (issue 18, finding 5).
func TestTimeoutSecondsWhole(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev", "--timeout", "500ms")
	_, raw := n.call("POST", "/v1/endpoints", map[string]any{"url": "http://127.0.0.1:9/x"}, nil)
	var ep struct {
		ID             string          `json:"id"`
		TimeoutSeconds json.RawMessage `json:"timeout_seconds"`
	}
	if err := json.Unmarshal(raw, &ep); err != nil || string(ep.TimeoutSeconds) != "1" {
		t.Fatalf("timeout_seconds %s (%v), want 1 for --timeout 500ms: %s", ep.TimeoutSeconds, err, raw)
	}
	// What it shows, written back, is taken.
	n.must(200, "PATCH", "/v1/endpoints/"+ep.ID, `{"timeout_seconds": `+string(ep.TimeoutSeconds)+`}`, nil)
}

// Outside --dev, loopback and private destinations are refused at save time
// and, for deliveries, at connect time.
func TestPrivateDestinationsRefusedOutsideDev(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir())
	for _, u := range []string{"http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.0.0.8/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/x",
		// Issue 20's SSRF forms, all literal: no name is looked up.
		"http://[64:ff9b::a9fe:a9fe]/latest/meta-data", "http://[2002:a9fe:a9fe::1]/", "http://[::169.254.169.254]/",
		"http://[fec0::1]/", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "http://0.1.2.3/", "http://240.0.0.1/",
		"http://198.18.0.1/", "http://127.1/", "http://0x7f000001/", "http://localhost./"} {
		status, raw := n.call("POST", "/v1/endpoints", map[string]any{"url": u}, nil)
		var e apiError
		_ = json.Unmarshal(raw, &e)
		if status != 400 || e.Error.Param != "url" || !strings.Contains(e.Error.Message, "--dev") {
			t.Errorf("POST endpoint %s: %d %s, want 400 naming url and --dev", u, status, raw)
		}
	}
	// A public address is accepted.
	var ep endpoint
	n.must(201, "POST", "/v1/endpoints", map[string]any{"url": "https://93.184.216.34/hook"}, &ep)
	status, _ := n.call("PATCH", "/v1/endpoints/"+ep.ID, map[string]any{"url": "http://192.168.1.1/x"}, nil)
	if status != http.StatusBadRequest {
		t.Errorf("PATCH to a private URL: status %d, want 400", status)
	}
}

// Endpoint CRUD and cursor pagination through the API.
func TestEndpointCRUDAndPagination(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	var ids []string
	for i := range 5 {
		ep := n.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/" + string(rune('a'+i)), "metadata": map[string]string{"i": string(rune('0' + i))}})
		ids = append(ids, ep.ID)
	}
	var seen []string
	after := ""
	for {
		var page struct {
			Data    []endpoint `json:"data"`
			HasMore bool       `json:"has_more"`
		}
		path := "/v1/endpoints?limit=2"
		if after != "" {
			path += "&starting_after=" + after
		}
		n.must(200, "GET", path, nil, &page)
		for _, e := range page.Data {
			if e.Secret != "" {
				t.Fatalf("list shows a secret")
			}
			seen = append(seen, e.ID)
		}
		if !page.HasMore {
			break
		}
		after = page.Data[len(page.Data)-1].ID
	}
	if len(seen) != 5 || seen[0] != ids[4] || seen[4] != ids[0] {
		t.Fatalf("paged through %v, want %v newest first", seen, ids)
	}
	var updated endpoint
	n.must(200, "PATCH", "/v1/endpoints/"+ids[0], map[string]any{"enabled_events": []string{"b.*", "a.x"}, "status": "disabled"}, &updated)
	if updated.Status != "disabled" || strings.Join(updated.EnabledEvents, ",") != "a.x,b.*" {
		t.Fatalf("updated endpoint %+v", updated)
	}
	var secret struct{ Secret string }
	n.must(200, "GET", "/v1/endpoints/"+ids[0]+"/secret", nil, &secret)
	if !strings.HasPrefix(secret.Secret, "whsec_") {
		t.Fatalf("secret %q", secret.Secret)
	}
	n.must(200, "DELETE", "/v1/endpoints/"+ids[0], nil, nil)
	n.must(404, "GET", "/v1/endpoints/"+ids[0], nil, nil)
	n.must(404, "DELETE", "/v1/endpoints/"+ids[0], nil, nil)
}
