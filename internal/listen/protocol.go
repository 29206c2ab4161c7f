package listen

import (
	"net/http"
)

// Message types on a device's websocket. The server sends Deliver; the
// device answers each with a Result carrying the same ID.
const (
	TypeDeliver = "deliver"
	TypeResult  = "result"
)

// CloseReplaced is the websocket close code sent to a device's connection
// when another `hookline listen` with the same name connects: the older one
// should stop rather than reconnect and take the device back.
const CloseReplaced = 4001

// Message is one websocket message, either way.
type Message struct {
	Type string `json:"type"`
	ID   string `json:"id"` // matches a Result to its Deliver

	// Deliver: the request a production endpoint would get. For a captured
	// inbound request, EventID is the request's id (req_…) and EventType
	// the provider's event type when one is found (see RequestLabel), else
	// the method and path it arrived at.
	EventID   string `json:"event_id,omitempty"`
	EventType string `json:"event_type,omitempty"`
	Attempt   int    `json:"attempt,omitempty"`
	// Tenant is the event's tenant (a platform's connected account), so
	// that `hookline listen --forward-connect-to` can send it apart.
	Tenant string      `json:"tenant,omitempty"`
	Header http.Header `json:"header,omitempty"`
	// SourceID is set only when the delivery forwards a request captured at
	// a source: the device then replays Method, Query (appended to the local
	// URL's), Header and Body exactly, without signing anything, so the app
	// checks the provider's own signature.
	SourceID string `json:"source_id,omitempty"`
	Method   string `json:"method,omitempty"`
	Path     string `json:"path,omitempty"` // where the provider sent it (/in/src_…), for display
	Query    string `json:"query,omitempty"`
	// Body is the exact payload; []byte so that JSON encoding cannot
	// reformat it (a json.RawMessage would be compacted).
	Body []byte `json:"body,omitempty"`

	// Result: what the local app answered.
	Status     int    `json:"status,omitempty"` // 0 when it did not answer
	Response   string `json:"response,omitempty"`
	RetryAfter string `json:"retry_after,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
	Error      string `json:"error,omitempty"`
	// ErrorKind is why the app gave no answer, one of the
	// hookline.AttemptError… kinds, decided by the device from the error
	// itself (delivery.ErrorKind): Error is only text by the time it
	// reaches the hub.
	ErrorKind string `json:"error_kind,omitempty"`
	URL       string `json:"url,omitempty"` // the local URL it was forwarded to
}

// Device is a listen device as the API shows it.
type Device struct {
	Name            string   `json:"name"`
	EndpointID      string   `json:"endpoint_id"`
	URL             string   `json:"url"`
	Secret          string   `json:"secret"`
	SignatureScheme string   `json:"signature_scheme"`
	EnabledEvents   []string `json:"enabled_events"`
	Connected       bool     `json:"connected"`
}

// TailEvent is one attempt as `hookline tail` receives it.
type TailEvent struct {
	AttemptID  string `json:"attempt_id"`
	EventID    string `json:"event_id"`
	EventType  string `json:"event_type"`
	EndpointID string `json:"endpoint_id"`
	URL        string `json:"url"`
	// Method is the HTTP method of the attempt: POST for events, the
	// method a forwarded inbound request arrived with (PUT, say). Servers
	// before it was added leave it out, meaning POST.
	Method     string `json:"method,omitempty"`
	Attempt    int    `json:"attempt"`
	Status     int    `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
	Created    int64  `json:"created"` // Unix milliseconds
	NextRetry  int64  `json:"next_retry,omitempty"`
	Succeeded  bool   `json:"succeeded"`
}
