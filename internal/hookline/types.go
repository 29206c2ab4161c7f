package hookline

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/webhook"
)

// Endpoint statuses.
const (
	EndpointEnabled  = "enabled"
	EndpointDisabled = "disabled"
)

// Signature schemes an endpoint can be signed with.
const (
	SchemeStandard = "standard" // Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)
	SchemeStripe   = "stripe"   // Stripe-Signature: t=…,v1=…
)

// Signing modes of a standard-scheme endpoint: what its current Secret is.
const (
	// SigningHMAC signs v1: HMAC-SHA256 with a secret (whsec_…) the
	// receiver shares.
	SigningHMAC = "hmac"
	// SigningEd25519 signs v1a: ed25519 with a secret key (whsk_…) only
	// Hookline holds; the receiver verifies with its public key (whpk_…).
	SigningEd25519 = "ed25519"
)

// Endpoint is a URL that receives the events it subscribes to.
type Endpoint struct {
	ID              string
	URL             string
	EnabledEvents   []string // exact types, "*", or prefix wildcards like "invoice.*"
	Description     string
	Metadata        map[string]string
	Tenant          string // "" receives every tenant's events; otherwise only that tenant's
	Status          string // EndpointEnabled or EndpointDisabled
	DisabledReason  string // why the endpoint was disabled, when it was disabled by Hookline
	SignatureScheme string // SchemeStandard or SchemeStripe
	// Secret signs deliveries: an HMAC secret (whsec_…) or an ed25519
	// secret key (whsk_…), which is what makes the endpoint's Signing.
	Secret string
	// PreviousSecret still signs deliveries, beside Secret, until
	// PreviousSecretExpires: the overlap of a rotation, or of a switch
	// between signing modes (then it is of the other kind).
	PreviousSecret        string
	PreviousSecretExpires time.Time
	// FailingSince is the time of the first failed attempt after the last
	// success; zero while the endpoint is healthy.
	FailingSince time.Time
	// Filter narrows the subscription by the event's contents; nil or empty
	// lets through whatever EnabledEvents and Tenant do.
	Filter *Filter
	// Headers are added to every delivery, never replacing the signature.
	Headers Headers
	// RetrySchedule, when not nil, replaces the server's: the delay before
	// each retry (0 retries at once); empty means no retries.
	RetrySchedule []time.Duration
	// MaxConcurrency caps the deliveries leased to the endpoint at a time,
	// across every node; 0 takes the server's default.
	MaxConcurrency int
	// Timeout bounds one attempt to the endpoint; 0 takes the server's.
	Timeout time.Duration
	// Ordering is OrderingFIFO or OrderingUnordered ("" reads as it).
	Ordering string
	// RateLimit, when not nil, paces the endpoint's deliveries.
	RateLimit *RateLimit
	// BreakerFailures is how many consecutive failed attempts open the
	// endpoint's circuit; 0 takes the server's.
	BreakerFailures int
	// Circuit is the endpoint's circuit breaker, written only by
	// CompleteTasks (UpdateEndpoint leaves it alone).
	Circuit Circuit
	// SealErr, when not nil, says which of the sealed values of the
	// endpoint's row did not open as it was read (a value copied from
	// another row, one an older node wrote, a tampered row), and why.
	// Those values are blank, never their ciphertext: the rest of the
	// endpoint reads as usual, so that it still lists and other endpoints'
	// reads do not fail with it, but it cannot be delivered to nor written
	// until its secret is rotated (and its headers set, if they are what
	// did not open).
	SealErr *SealError
	Created time.Time
	Updated time.Time
}

// SealError is what did not open of an endpoint's sealed values.
type SealError struct {
	// Secret, PreviousSecret and Headers name the columns that did not
	// open; each is blank on the endpoint.
	Secret, PreviousSecret, Headers bool
	// Err is the first reason; it names the column and row, never a value.
	Err error
}

func (e *SealError) Error() string { return e.Err.Error() }

func (e *SealError) Unwrap() error { return e.Err }

// Signing returns the endpoint's signing mode, SigningEd25519 when its
// secret is an ed25519 secret key and SigningHMAC otherwise. It is read
// from the secret rather than stored beside it, so the two cannot disagree.
func (e *Endpoint) Signing() string {
	if webhook.IsSecretKey(e.Secret) {
		return SigningEd25519
	}
	return SigningHMAC
}

// Secrets returns the secrets a delivery at now is signed with: the current
// one, and the previous one while its overlap lasts.
func (e *Endpoint) Secrets(now time.Time) []string {
	if e.PreviousSecret != "" && now.Before(e.PreviousSecretExpires) {
		return []string{e.Secret, e.PreviousSecret}
	}
	return []string{e.Secret}
}

// Event is something that happened in the publishing application.
type Event struct {
	ID      string // evt_…
	Type    string
	Created time.Time // whole seconds
	Tenant  string
	// Payload is the exact body delivered to every endpoint, on every attempt:
	// {"id","object":"event","type","created","data"[,"tenant"]}. It is built
	// once, at publish, by NewEventPayload.
	Payload []byte
	// IdempotencyKey, when set, makes publishing the same key twice within
	// the idempotency window return the first event.
	IdempotencyKey string
	// OnlyEndpoint, when set, fans the event out to that endpoint alone
	// (if it is enabled), whatever its subscription and tenant: a test
	// event. It matters only at publish and is not stored.
	OnlyEndpoint string
}

// NewEventPayload builds an event's delivery body:
// {"id","object":"event","type","created","data"[,"tenant"]}. data must be
// valid JSON in UTF-8 (RFC 8259; json.Valid lets other bytes through inside
// strings, which receivers' parsers refuse or mangle); it is kept byte for byte as published (encoding/json would
// compact it), so a publisher's signature over its own bytes, or its key
// order, survives.
func NewEventPayload(id, typ string, created time.Time, tenant string, data json.RawMessage) ([]byte, error) {
	if !json.Valid(data) {
		return nil, Invalid("data", "data is not valid JSON")
	}
	if !utf8.Valid(data) {
		return nil, Invalid("data", "data is not valid UTF-8: JSON text must be")
	}
	buf := make([]byte, 0, len(data)+len(id)+len(typ)+len(tenant)+80)
	buf = append(buf, `{"id":`...)
	buf = appendJSONString(buf, id)
	buf = append(buf, `,"object":"event","type":`...)
	buf = appendJSONString(buf, typ)
	buf = append(buf, `,"created":`...)
	buf = strconv.AppendInt(buf, created.Unix(), 10)
	buf = append(buf, `,"data":`...)
	buf = append(buf, data...)
	if tenant != "" {
		buf = append(buf, `,"tenant":`...)
		buf = appendJSONString(buf, tenant)
	}
	return append(buf, '}'), nil
}

// appendJSONString appends s as a JSON string, as json.Marshal writes it.
// Ids and event types need no escaping, so they skip the encoder.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // marshalling a string cannot fail
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt (or in flight)
	DeliverySucceeded = "succeeded" // an attempt got a 2xx
	DeliveryFailed    = "failed"    // the retry schedule ran out, or the endpoint answered 410 Gone
	DeliveryCanceled  = "canceled"  // the endpoint was deleted
)

// Delivery is the work of bringing one event to one endpoint: it lives from
// publish until a 2xx, or until the retry schedule runs out.
type Delivery struct {
	ID            string // dlv_…
	EventID       string
	EndpointID    string
	Status        string
	Attempts      int       // attempts made so far
	NextAttemptAt time.Time // when the next attempt is due, while pending
	Created       time.Time
	Updated       time.Time
}

// Task is a claimed delivery with all that is needed to make its next
// attempt, so that the engine does not read the store again before sending.
type Task struct {
	DeliveryID string
	Attempt    int // the number of the attempt about to be made (1 for the first)
	Event      *Event
	Endpoint   *Endpoint
	// LeaseExpires is when the claim lapses and another worker may take the
	// delivery; the attempt must be completed before then.
	LeaseExpires time.Time
	// Request, when set, makes the task the forwarding of a captured inbound
	// request (Event then stands for it: its ID is the request's), which is
	// sent as it arrived instead of as a signed event.
	Request *InboundRequest
}

// Attempt is the record of one HTTP request made for a delivery.
type Attempt struct {
	ID             string // atm_…
	DeliveryID     string
	EventID        string
	EndpointID     string
	Attempt        int // 1, 2, …
	Created        time.Time
	URL            string
	ResponseStatus int // 0 when no response came
	DurationMS     int64
	Error          string // transport error or a short reason; "" on success
	// ErrorKind says, in one word, why no answer came (one of the
	// AttemptError… kinds); "" when the endpoint answered. It is decided
	// once, from the error itself, when the attempt is made, so the API,
	// the CLI and the dashboard show the same.
	ErrorKind    string
	ResponseBody string // the first 4 KB of the response body
	// NextRetry is when the delivery will be tried again; zero when no retry
	// is scheduled.
	NextRetry time.Time
}

// The kinds of Attempt.ErrorKind: why an attempt got no answer.
const (
	AttemptErrorRefused     = "refused"     // the endpoint refused the connection
	AttemptErrorTimeout     = "timeout"     // no whole answer within the timeout
	AttemptErrorTLS         = "tls"         // the TLS handshake failed (certificate, protocol)
	AttemptErrorDNS         = "dns"         // the host name did not resolve
	AttemptErrorUnreachable = "unreachable" // no route to the host or network
	AttemptErrorClosed      = "closed"      // the connection closed or reset before a whole answer
	AttemptErrorCanceled    = "canceled"    // Hookline stopped during the attempt
	AttemptErrorOther       = "error"       // anything else: the message says what
)

// Succeeded reports whether the attempt got a 2xx answer.
func (a *Attempt) Succeeded() bool { return a.ResponseStatus >= 200 && a.ResponseStatus < 300 }

// Completion is the outcome of one attempt, to be recorded with the
// delivery's new state in Store.CompleteTasks.
type Completion struct {
	Attempt Attempt
	// Status is the delivery's new status: DeliveryPending with
	// Attempt.NextRetry set for a retry, DeliverySucceeded or DeliveryFailed.
	Status string
	// DisableEndpoint, when non-empty, disables the endpoint with this reason
	// (410 Gone).
	DisableEndpoint string
	// Breaker, when set, carries the breaker's rule in and the circuit's
	// outcome out; without it the store applies the default rule.
	Breaker *BreakerCheck
}

// Page asks for one page of a list, newest first.
type Page struct {
	Limit         int    // 1..100; 0 means the default of 10
	StartingAfter string // the id of the last object of the previous page
}

// EventFilter narrows ListEvents.
type EventFilter struct {
	Page
	Type   string
	Tenant string
}

// AttemptFilter narrows ListAttempts. EventID and EndpointID may both be set.
type AttemptFilter struct {
	Page
	EventID    string
	EndpointID string
}

// EndpointFilter narrows ListEndpoints.
type EndpointFilter struct {
	Page
	Tenant string
}
