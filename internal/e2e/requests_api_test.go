package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// wantAPIError fails t unless the answer is status with an error naming
// param whose message contains text.
func wantAPIError(t *testing.T, what string, status int, raw []byte, wantStatus int, param, text string) {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("%s: %d %s: not a JSON error: %v", what, status, raw, err)
	}
	if status != wantStatus || e.Error.Param != param || !strings.Contains(e.Error.Message, text) {
		t.Fatalf("%s: %d %s, want %d naming param %q with %q", what, status, raw, wantStatus, param, text)
	}
}

// TestRequestsAPIErrors checks the captured requests' API answers for
// what it cannot do: a replay's bad method or header names is a 400 naming
// the field (the first bad header by name, every time), and a list by a
// source that does not exist, or no longer does, is a 404 rather than an
// empty list a typo would hide behind.
func TestRequestsAPIErrors(t *testing.T) {
	t.Parallel()
	n := startNode(t, t.TempDir(), "--dev")
	var src source
	n.must(201, "POST", "/v1/sources", map[string]any{"name": "kept", "type": "none"}, &src)
	resp, raw := ingest(t, src.IngestURL, "POST", http.Header{"Content-Type": {"text/plain"}}, []byte("hello"))
	if resp.StatusCode != 200 {
		t.Fatalf("ingest: %d %s", resp.StatusCode, raw)
	}
	reqID := resp.Header.Get("X-Hookline-Request-Id")

	replay := "/v1/requests/" + reqID + "/replay"
	for _, tc := range []struct {
		name        string
		body        map[string]any
		param, text string
	}{
		{"method not a token", map[string]any{"method": "PO ST"}, "method", `"PO ST"`},
		{"header name not a token", map[string]any{"headers": map[string]string{"X Bad": "1"}}, "headers", `"X Bad"`},
		{"control character in a value", map[string]any{"headers": map[string]string{"X-Split": "a\r\nInjected: 1"}}, "headers", "X-Split"},
		{"the first of several bad names", map[string]any{"headers": map[string]string{
			"Z z": "1", "M m": "1", "B b": "1", "Q q": "1", "K k": "1", "D d": "1", "Y y": "1", "F f": "1"}}, "headers", `"B b"`},
	} {
		// Several runs: map order would change which header a run names.
		for range 5 {
			status, raw := n.call("POST", replay, tc.body, nil)
			wantAPIError(t, "replay, "+tc.name, status, raw, 400, tc.param, tc.text)
		}
	}

	var list struct {
		Data []capturedRequest `json:"data"`
	}
	n.must(200, "GET", "/v1/requests?source_id="+src.ID, nil, &list)
	if len(list.Data) != 1 || list.Data[0].ID != reqID {
		t.Fatalf("listed %+v, want the one request", list.Data)
	}
	for _, id := range []string{"src_nosuch", "nosuch"} {
		status, raw := n.call("GET", "/v1/requests?source_id="+id, nil, nil)
		wantAPIError(t, "list by unknown source "+id, status, raw, 404, "id", "")
	}
	n.must(200, "DELETE", "/v1/sources/"+src.ID, nil, nil)
	status, raw := n.call("GET", "/v1/requests?source_id="+src.ID, nil, nil)
	wantAPIError(t, "list by deleted source", status, raw, 404, "id", "")
	// The request itself stays readable.
	n.must(200, "GET", "/v1/requests/"+reqID, nil, nil)
}
