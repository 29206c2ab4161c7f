package hookline

import (
	"context"
	"encoding/json"
	"time"
)

// Source types: how a source verifies what arrives at its ingest URL.
const (
	SourceStripe   = "stripe"   // Stripe-Signature: t=…,v1=…
	SourceGitHub   = "github"   // X-Hub-Signature-256: sha256=…
	SourceShopify  = "shopify"  // X-Shopify-Hmac-Sha256: base64
	SourceSlack    = "slack"    // X-Slack-Signature: v0=…, X-Slack-Request-Timestamp
	SourceTwilio   = "twilio"   // X-Twilio-Signature: base64 HMAC-SHA1 of URL + params
	SourceStandard = "standard" // Standard Webhooks (also svix- headers)
	SourceHMAC     = "hmac"     // a configurable header, algorithm, encoding and prefix
	SourceToken    = "token"    // a shared token in a header or query parameter
	SourceBasic    = "basic"    // HTTP basic auth
	SourceNone     = "none"     // no verification
)

// Inbound request statuses.
const (
	RequestAccepted  = "accepted"  // verified (or the source verifies nothing) and forwarded
	RequestRejected  = "rejected"  // failed verification; Reason says why; never forwarded
	RequestDuplicate = "duplicate" // a provider delivery id seen within DedupeWindow; not forwarded
	RequestReplay    = "replay"    // a copy, maybe edited, made by a replay; ReplayOf is the original
)

// DedupeWindow is how long a provider's delivery id keeps a second delivery
// of it from being forwarded.
const DedupeWindow = 24 * time.Hour

// Source is a place providers send webhooks to: /in/<ID>.
type Source struct {
	ID      string // src_…
	Name    string // unique
	Type    string // one of the Source… constants
	Secret  string // signing secret, token or password, as the type needs
	Options SourceOptions
	// Response is what every request gets back once it is stored.
	Response SourceResponse
	// Limits bound what senders can make the source store.
	Limits SourceLimits
	// SealErr, when not nil, says why the source's sealed secret did not
	// open as it was read (a value copied from another row, a tampered
	// row); Secret is then blank, never the ciphertext. The source still
	// lists and reads, but refuses its requests, and is not written,
	// until its secret is set anew.
	SealErr error
	Created time.Time
	Updated time.Time
}

// SourceOptions tune the verification of some source types. Unused fields
// are empty.
type SourceOptions struct {
	// Header names the signature header (hmac) or token header (token).
	Header string `json:"header,omitempty"`
	// Algorithm is sha1, sha256 or sha512 (hmac).
	Algorithm string `json:"algorithm,omitempty"`
	// Encoding is hex or base64 (hmac).
	Encoding string `json:"encoding,omitempty"`
	// Prefix precedes the signature in the header, e.g. "sha256=" (hmac).
	Prefix string `json:"prefix,omitempty"`
	// QueryParam names the query parameter carrying the token (token).
	QueryParam string `json:"query_param,omitempty"`
	// Username is the expected basic-auth user (basic); Secret is the password.
	Username string `json:"username,omitempty"`
	// AllowSHA1 accepts GitHub's legacy X-Hub-Signature: sha1= (github).
	AllowSHA1 bool `json:"allow_sha1,omitempty"`
	// URL is the public URL the provider calls, when Hookline runs behind a
	// proxy that rewrites it (twilio signs the URL).
	URL string `json:"url,omitempty"`
	// ToleranceSeconds bounds the age of a signed timestamp (stripe, slack,
	// standard); 0 means the provider's own 300 s.
	ToleranceSeconds int `json:"tolerance_seconds,omitempty"`
}

// SourceLimits bound what anyone who knows a source's ingest URL can make
// it store: its address, how often and how much. A request refused by a
// limit is answered at once and not stored, so a flood costs no disk.
type SourceLimits struct {
	// AllowedIPs are the CIDRs (or single addresses) requests may come from;
	// empty allows any. Providers publish theirs (Stripe, GitHub, Shopify).
	AllowedIPs []string `json:"allowed_ips,omitempty"`
	// RequestsPerMinute caps the rate of requests; 0 takes the server's
	// default (serve --inbound-rate-limit).
	RequestsPerMinute int `json:"requests_per_minute,omitempty"`
	// BytesPerDay caps the body bytes received per UTC day; 0 takes the
	// server's default (serve --inbound-daily-quota).
	BytesPerDay int64 `json:"bytes_per_day,omitempty"`
}

// MaxRejectedBody is how much of a rejected request's body is kept: enough
// to see what was sent, not enough for strangers to fill the disk with
// requests that fail verification. Size and BodySHA256 describe the whole.
const MaxRejectedBody = 64 << 10

// SourceResponse is the answer a source gives to what it receives.
type SourceResponse struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body"`
}

// InboundRequest is one HTTP request received at a source, kept exactly as
// it arrived.
type InboundRequest struct {
	ID       string // req_…
	SourceID string
	Method   string
	Path     string
	Query    string              // the raw query string, without '?'
	Headers  map[string][]string // canonical names, values in arrival order
	// Body is the body as received, or its first MaxRejectedBody bytes
	// when a rejected request's was longer (then Size > len(Body)).
	Body []byte
	// Size is the length of the whole body as received.
	Size int64
	// BodySHA256 is the hex SHA-256 of the whole body when Body holds only
	// its beginning, "" otherwise.
	BodySHA256 string
	// RemoteAddr is the peer address of the connection.
	RemoteAddr string
	Received   time.Time
	Status     string // one of the Request… constants
	Reason     string // why it was rejected, or whose duplicate it is
	// DedupeKey is the provider's delivery id, "" when it sends none.
	DedupeKey string
	// ReplayOf is the id of the request a replay copied.
	ReplayOf string
}

// Connection forwards a source's verified requests that match Filter to URL.
type Connection struct {
	ID       string // con_…
	SourceID string
	URL      string
	// Filter is a JSON object of conditions (see internal/inbound); null or
	// empty forwards everything.
	Filter  json.RawMessage
	Created time.Time
	Updated time.Time
	// SourceName is the source's name, for people: not stored, filled in
	// by the application layer when it returns a connection.
	SourceName string
}

// ConnectionFilter narrows ListConnections.
type ConnectionFilter struct {
	Page
	SourceID string
}

// RequestFilter narrows ListRequests.
type RequestFilter struct {
	Page
	SourceID string
	Status   string
	Since    time.Time // received at or after; zero for no bound
	Until    time.Time // received before; zero for no bound
	// Search keeps requests whose headers or body contain this text.
	Search string
}

// CaptureOptions tune InboundStore.CaptureRequest.
type CaptureOptions struct {
	// ConnectionIDs are the connections an accepted request is forwarded to;
	// "" stands for a target outside any connection (a replay to a URL),
	// which only its leaseholder ever attempts.
	ConnectionIDs []string
	Now           time.Time
	DedupeWindow  time.Duration
	// LeaseOwner and LeaseExpires, when set, create the deliveries already
	// claimed, as PublishOptions does.
	LeaseOwner   string
	LeaseExpires time.Time
	// BodyPieces, when set and the request's Body is nil, is the body in
	// the pieces it was read in. The store has the database join them
	// into the row, so that no request holds its body twice; it sets Body
	// (joined) only on a request whose deliveries come back as Tasks.
	BodyPieces [][]byte
}

// Captured is the result of CaptureRequest.
type Captured struct {
	Request *InboundRequest
	// Tasks are the new deliveries when they were leased at capture.
	Tasks []*Task
	// Deliveries is the number of deliveries made.
	Deliveries int
}

// InboundStore keeps sources, connections and captured requests. Request
// deliveries live in the same deliveries table as event deliveries (their
// EventID is the request id, their EndpointID the connection id), so
// ClaimTasks, CompleteTasks and ReleaseTasks handle both; a task for a
// request carries it in Task.Request.
type InboundStore interface {
	// CreateSource inserts src. Returns ECONFLICT if its id or name is taken.
	CreateSource(ctx context.Context, src *Source) error
	// Source returns the source with that id, or ENOTFOUND.
	Source(ctx context.Context, id string) (*Source, error)
	// SourceByName returns the source with that name, or ENOTFOUND.
	SourceByName(ctx context.Context, name string) (*Source, error)
	// ListSources returns one page of sources, newest first.
	ListSources(ctx context.Context, p Page) ([]*Source, bool, error)
	// UpdateSource writes every field of src but ID and Created. Returns
	// ENOTFOUND, or ECONFLICT when the new name is taken.
	UpdateSource(ctx context.Context, src *Source) error
	// DeleteSource removes the source and its connections and cancels their
	// pending deliveries; captured requests stay. Returns ENOTFOUND.
	DeleteSource(ctx context.Context, id string) error

	// CreateConnection inserts c. Returns ENOTFOUND for an unknown source.
	CreateConnection(ctx context.Context, c *Connection) error
	// Connection returns the connection with that id, or ENOTFOUND.
	Connection(ctx context.Context, id string) (*Connection, error)
	// ListConnections returns one page of connections, newest first.
	ListConnections(ctx context.Context, f ConnectionFilter) ([]*Connection, bool, error)
	// UpdateConnection writes URL and Filter. Returns ENOTFOUND.
	UpdateConnection(ctx context.Context, c *Connection) error
	// DeleteConnection removes the connection and cancels its pending
	// deliveries. Returns ENOTFOUND.
	DeleteConnection(ctx context.Context, id string) error

	// CaptureRequest stores r and, when r is accepted, one pending delivery
	// per opts.ConnectionIDs, in one transaction. An accepted request whose
	// DedupeKey its source saw less than opts.DedupeWindow ago is stored as
	// a duplicate instead (Status and Reason changed in r), with no
	// deliveries.
	CaptureRequest(ctx context.Context, r *InboundRequest, opts CaptureOptions) (Captured, error)
	// Request returns the captured request with that id, or ENOTFOUND.
	Request(ctx context.Context, id string) (*InboundRequest, error)
	// ListRequests returns one page of captured requests, newest first.
	ListRequests(ctx context.Context, f RequestFilter) ([]*InboundRequest, bool, error)
	// ResendRequest makes a request due again at now for one connection
	// (connectionID set) or for each of its source's connections that has a
	// delivery of it. Returns ENOTFOUND for an unknown request or connection.
	ResendRequest(ctx context.Context, requestID, connectionID string, now time.Time) ([]*Delivery, error)
}

// NewRequestTask builds the task of forwarding r to a connection. Its Event
// stands in for the request, so that code written for event tasks (attempt
// records, metrics, the live tail) sees the request's id.
func NewRequestTask(deliveryID string, attempt int, r *InboundRequest, connectionID, url string, lease time.Time) *Task {
	return &Task{
		DeliveryID: deliveryID,
		Attempt:    attempt,
		Event:      &Event{ID: r.ID, Type: "inbound.request", Created: r.Received, Payload: r.Body},
		Endpoint: &Endpoint{ID: connectionID, URL: url, Status: EndpointEnabled,
			EnabledEvents: []string{"*"}, Created: r.Received},
		LeaseExpires: lease,
		Request:      r,
	}
}
