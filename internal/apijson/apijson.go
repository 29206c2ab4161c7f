// Package apijson holds the JSON shapes of Hookline's API answers, written
// once: internal/api renders them and internal/client decodes them, so
// the CLI shows what the server sent without a copy of each shape. Field
// order is the order on the wire.
package apijson

import (
	"encoding/json"

	"github.com/hookline/hookline/internal/hookline"
)

// List is a page of a list, as every list route answers.
type List[T any] struct {
	Object  string `json:"object"`
	Data    []T    `json:"data"`
	HasMore bool   `json:"has_more"`
}

// NewList is a page of data; never null, so that clients can range over it.
func NewList[T any](data []T, hasMore bool) List[T] {
	if data == nil {
		data = []T{}
	}
	return List[T]{Object: "list", Data: data, HasMore: hasMore}
}

// Deleted answers a DELETE. Its fields are in alphabetical order, the
// order the map it replaced was written in.
type Deleted struct {
	Deleted bool   `json:"deleted"`
	ID      string `json:"id"`
	Object  string `json:"object"`
}

// Endpoint is an endpoint as the API shows it. The secret is shown only
// by create and by the secret routes; an ed25519 endpoint shows its public
// key instead, everywhere, and its secret key nowhere.
type Endpoint struct {
	ID              string            `json:"id"`
	Object          string            `json:"object"`
	URL             string            `json:"url"`
	EnabledEvents   []string          `json:"enabled_events"`
	Description     string            `json:"description"`
	Metadata        map[string]string `json:"metadata"`
	Tenant          string            `json:"tenant,omitempty"`
	Status          string            `json:"status"`
	DisabledReason  string            `json:"disabled_reason,omitempty"`
	SignatureScheme string            `json:"signature_scheme"`
	Signing         string            `json:"signing"`              // hmac or ed25519
	PublicKey       string            `json:"public_key,omitempty"` // whpk_…, for ed25519
	KeySet          string            `json:"key_set,omitempty"`    // ks_…, the kid prefix of its keys in /.well-known/webhook-keys, for ed25519
	Filter          json.RawMessage   `json:"filter"`               // null: none
	Headers         map[string]string `json:"headers"`              // static headers of every delivery
	RetrySchedule   []string          `json:"retry_schedule"`       // null: the server's
	MaxConcurrency  int               `json:"max_concurrency"`      // the endpoint's, or the server's default
	TimeoutSeconds  int               `json:"timeout_seconds"`      // the endpoint's, or the server's --timeout in whole seconds (rounded up)
	Ordering        string            `json:"ordering"`             // fifo or unordered
	RateLimit       *RateLimit        `json:"rate_limit"`           // null: none
	CircuitBreaker  Breaker           `json:"circuit_breaker"`
	Circuit         Circuit           `json:"circuit"`
	HeldUntil       *int64            `json:"held_until"` // when a receiver's 429 (Retry-After) stops holding its deliveries; null: not held
	Secret          string            `json:"secret,omitempty"`
	// SecretError, when set, says that sealed values of the endpoint did
	// not open (hookline.Endpoint.SealErr) and how to mend it: until then
	// its deliveries fail without being sent.
	SecretError string `json:"secret_error,omitempty"`
	Created     int64  `json:"created"`
	Updated     int64  `json:"updated"`
}

// RateLimit is an endpoint's rate_limit, with the burst in force.
type RateLimit struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst"`
}

// Breaker is the endpoint's breaker setting: its own failures, or the
// server's --breaker-failures.
type Breaker struct {
	Failures int `json:"failures"`
}

// Circuit is the endpoint's circuit now; the times are null while it is
// closed.
type Circuit struct {
	State       string `json:"state"` // closed, open or half_open
	OpenedAt    *int64 `json:"opened_at"`
	NextProbeAt *int64 `json:"next_probe_at"`
}

// Secret is an endpoint's signing secret (an ed25519 endpoint: its public
// key), with the previous one while it still signs.
type Secret struct {
	Object                string `json:"object"`
	Secret                string `json:"secret"`
	PreviousSecret        string `json:"previous_secret,omitempty"`
	PreviousSecretExpires int64  `json:"previous_secret_expires,omitempty"`
	// KeySet (ks_…) is the kid prefix of the endpoint's public keys in
	// /.well-known/webhook-keys, the same across rotations; ed25519 only.
	KeySet string `json:"key_set,omitempty"`
}

// Event is an event as endpoints receive it, the shape
// hookline.NewEventPayload writes. The API answers an event with those
// bytes as they were stored, so decoding keeps them in Payload: a
// publisher's data, its spacing and characters, shown as it was sent.
type Event struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Type    string          `json:"type"`
	Created int64           `json:"created"`
	Data    json.RawMessage `json:"data"`
	Tenant  string          `json:"tenant,omitempty"`
	Payload json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the event's fields and keeps its bytes in Payload.
func (e *Event) UnmarshalJSON(b []byte) error {
	type fields Event // without this method
	var f fields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*e = Event(f)
	e.Payload = append(json.RawMessage(nil), b...)
	return nil
}

// Attempt is one try at delivering an event or a captured request.
type Attempt struct {
	ID             string `json:"id"`
	Object         string `json:"object"`
	EventID        string `json:"event_id"`
	EndpointID     string `json:"endpoint_id"`
	DeliveryID     string `json:"delivery_id"`
	Attempt        int    `json:"attempt"`
	Created        int64  `json:"created"`
	URL            string `json:"url"`
	ResponseStatus int    `json:"response_status"`
	DurationMS     int64  `json:"duration_ms"`
	Error          string `json:"error"`
	ErrorKind      string `json:"error_kind"` // why no answer came: refused, timeout, tls, dns, …; "" when one did
	ResponseBody   string `json:"response_body"`
	NextRetry      *int64 `json:"next_retry"`
}

// Delivery is an event's (or a captured request's) delivery to one
// endpoint (or connection).
type Delivery struct {
	ID            string `json:"id"`
	Object        string `json:"object"`
	EventID       string `json:"event_id"`
	EndpointID    string `json:"endpoint_id"`
	Status        string `json:"status"`
	Attempts      int    `json:"attempts"`
	NextAttemptAt *int64 `json:"next_attempt_at"`
	Created       int64  `json:"created"`
	Updated       int64  `json:"updated"`
}

// Job is a background job, such as an endpoint's recover.
type Job struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	Kind       string `json:"kind"`
	EndpointID string `json:"endpoint_id"`
	Since      int64  `json:"since"`
	Until      int64  `json:"until"`
	Status     string `json:"status"`
	Done       int    `json:"done"`
	Total      int    `json:"total"`
	Error      string `json:"error,omitempty"`
	Created    int64  `json:"created"`
	Updated    int64  `json:"updated"`
}

// Job statuses.
const (
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
)

// Finished says whether the job is over, for good or ill.
func (j Job) Finished() bool { return j.Status == JobSucceeded || j.Status == JobFailed }

// Source is where a provider sends webhooks (/in/<id>). Its secret is
// shown only by SourceSecret.
type Source struct {
	ID        string                  `json:"id"`
	Object    string                  `json:"object"`
	Name      string                  `json:"name"`
	Type      string                  `json:"type"`
	Options   hookline.SourceOptions  `json:"options"`
	Response  hookline.SourceResponse `json:"response"`
	Limits    hookline.SourceLimits   `json:"limits"`
	IngestURL string                  `json:"ingest_url"`
	Created   int64                   `json:"created"`
	Updated   int64                   `json:"updated"`
}

// SourceSecret is a source's secret.
type SourceSecret struct {
	Object   string `json:"object"`
	SourceID string `json:"source_id"`
	Secret   string `json:"secret"`
}

// Connection forwards a source's requests to a URL.
type Connection struct {
	ID         string          `json:"id"`
	Object     string          `json:"object"`
	SourceID   string          `json:"source_id"`
	SourceName string          `json:"source_name"`
	URL        string          `json:"url"`
	Filter     json.RawMessage `json:"filter"` // null: every request
	Created    int64           `json:"created"`
	Updated    int64           `json:"updated"`
}

// Request is a request a source received.
type Request struct {
	ID           string              `json:"id"`
	Object       string              `json:"object"`
	SourceID     string              `json:"source_id"`
	Method       string              `json:"method"`
	Path         string              `json:"path"`
	Query        string              `json:"query"`
	Headers      map[string][]string `json:"headers"`
	Body         *string             `json:"body,omitempty"`
	BodyEncoding string              `json:"body_encoding,omitempty"` // utf8 or base64
	Size         int                 `json:"size"`
	RemoteAddr   string              `json:"remote_addr"`
	Received     int64               `json:"received"`
	ReceivedMS   int64               `json:"received_ms"`
	Status       string              `json:"status"`
	Reason       string              `json:"reason"`
	DedupeKey    string              `json:"dedupe_key"`
	ReplayOf     string              `json:"replay_of,omitempty"`
	// Truncated says Body holds only the first 64 KiB of a rejected
	// request's Size bytes, whose SHA-256 BodySHA256 is.
	Truncated  bool   `json:"truncated,omitempty"`
	BodySHA256 string `json:"body_sha256,omitempty"`
}

// ReplayParams ask to send a captured request again, maybe edited: to URL,
// to one connection, or to its source's connections when both are "".
type ReplayParams struct {
	URL          string `json:"url,omitempty"`
	ConnectionID string `json:"connection_id,omitempty"`
	Method       string `json:"method,omitempty"`
	// Headers replace the request's when not null (an empty object
	// sends none).
	Headers map[string]string `json:"headers"`
	// Body or BodyBase64 replaces the request's body when set.
	Body       *string `json:"body,omitempty" nul:"bytes"` // sent and stored as bytes, NUL and all (api.decode)
	BodyBase64 *string `json:"body_base64,omitempty"`
}

// Replay is the answer to a replay: the copy captured and what sending it
// did.
type Replay struct {
	Object   string    `json:"object"`
	Request  Request   `json:"request"`
	Attempts []Attempt `json:"attempts"`
	// Queued are deliveries handed to the engine (listen:// connections).
	Queued []string `json:"queued"`
}

// KeyRotation is the answer to rotating the key that seals secrets.
type KeyRotation struct {
	Object   string `json:"object"`
	KeyID    string `json:"key_id"`   // the new key's id (a hash prefix, not the key)
	Resealed int    `json:"resealed"` // secrets rewritten
	Source   string `json:"source"`   // the key file, or HOOKLINE_SECRET_KEY
	// Skipped names the values that did not open and were left as they
	// were ("<table>.<column> of <id>: <why>"); while there are any, the
	// old keys are kept. Empty when every value was re-sealed.
	Skipped []string `json:"skipped"`
}
