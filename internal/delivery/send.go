package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httpclient"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/webhook"
)

// maxResponseBody is how much of a response body an attempt keeps.
const maxResponseBody = 4 << 10

// Response is what one request to an endpoint came back with.
type Response struct {
	Status     int // 0 when no response came
	Body       string
	RetryAfter string
	Err        error
	// Defer, when positive, means no attempt was made (a developer's listen
	// session is offline): the delivery is given back, due again after
	// Defer, and no attempt is recorded, so its retry schedule is not spent.
	Defer time.Duration
}

// Sender makes one attempt of a task, signed at now. The Engine uses an
// HTTPSender for endpoints with http(s) URLs; other transports (a
// developer's listen session) plug in through Config.Transports.
//
// The attempt must be over by deadline; ctx is canceled only when Hookline
// stops without waiting. The deadline is not in ctx because a context with
// one arms a timer and registers with its parent on every attempt, which
// showed up in the profile of a busy node; an HTTP attempt needs only its
// connection's deadline.
type Sender interface {
	Send(ctx context.Context, t *hookline.Task, now, deadline time.Time) Response
}

// HTTPSender POSTs signed event payloads over HTTP.
type HTTPSender struct {
	Client    *httpclient.Client
	UserAgent string

	signers sync.Map // secret → *webhook.Signer; decoding a secret per request costs more than the HMAC
	urls    urlCache
}

// NewHTTPClient returns the client deliveries are made with: HTTP/1.1 over
// pooled connections, no redirects followed (a 3xx is an answer, not a
// success), no proxy, and, unless allowPrivate, no connections to private
// or loopback addresses.
func NewHTTPClient(allowPrivate bool) *httpclient.Client {
	return httpclient.New(httpclient.Options{Dial: netguard.Dialer(allowPrivate).DialContext})
}

// SignHeaders sets the signature headers of scheme on h for a request
// carrying body, signed at now with each of secrets (webhook.SignHeaders,
// with the sender's cache of decoded secrets).
func (s *HTTPSender) SignHeaders(h http.Header, scheme, msgID string, body []byte, now time.Time, secrets []string) error {
	return webhook.SignHeaders(h, scheme, msgID, now, body, secrets, s.signer)
}

func (s *HTTPSender) signer(secret string) (*webhook.Signer, error) {
	if v, ok := s.signers.Load(secret); ok {
		return v.(*webhook.Signer), nil
	}
	signer, err := webhook.NewSigner(secret)
	if err != nil {
		return nil, fmt.Errorf("endpoint secret: %w", err)
	}
	s.signers.Store(secret, signer)
	return signer, nil
}

// Send POSTs the task's event to its endpoint.
func (s *HTTPSender) Send(ctx context.Context, t *hookline.Task, now, deadline time.Time) Response {
	ep, ev := t.Endpoint, t.Event
	u, err := s.urls.parse(ep.URL)
	if err != nil {
		return Response{Err: err}
	}
	h := make(http.Header, 6+len(ep.Headers))
	// The endpoint's static headers go first, so that what Hookline sets
	// after them (framing, signature) wins even if one slipped past
	// validation.
	hookline.EachSendableHeader(ep.Headers, h.Set)
	h["Content-Type"] = []string{"application/json"}
	h["User-Agent"] = []string{s.UserAgent}
	if err := s.SignHeaders(h, ep.SignatureScheme, ev.ID, ev.Payload, now, ep.Secrets(now)); err != nil {
		return Response{Err: err}
	}
	return Do(ctx, s.Client, &httpclient.Request{URL: u, Header: h, Body: ev.Payload, Deadline: deadline})
}

// Do sends req and reads the start of the answer.
func Do(ctx context.Context, c *httpclient.Client, req *httpclient.Request) Response {
	resp, err := c.Do(ctx, req, maxResponseBody)
	if err != nil {
		return Response{Err: describeTransportError(err)}
	}
	return Response{Status: resp.Status, Body: string(resp.Body), RetryAfter: resp.Header.Get("Retry-After")}
}

// urlCache keeps endpoint URLs parsed: every attempt to an endpoint sends
// to the same one.
type urlCache struct {
	mu sync.RWMutex
	m  map[string]*url.URL
}

// parse returns raw parsed; the result is shared and must not be changed.
func (c *urlCache) parse(raw string) (*url.URL, error) {
	c.mu.RLock()
	u := c.m[raw]
	c.mu.RUnlock()
	if u != nil {
		return u, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("endpoint URL: %w", err)
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= 4096 { // URLs of deleted and changed endpoints go too
		c.m = map[string]*url.URL{}
	}
	c.m[raw] = u
	c.mu.Unlock()
	return u, nil
}

// describeTransportError turns a client error into a short reason a person
// reading an attempt understands, keeping its kind (see ErrorKind).
func describeTransportError(err error) error {
	kind := ErrorKind(err)
	ke := &kindError{kind: kind, err: err}
	switch {
	case kind == hookline.AttemptErrorTimeout:
		ke.msg = "timed out waiting for the endpoint"
	case kind == hookline.AttemptErrorCanceled:
		ke.msg = "canceled: Hookline was shutting down"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		ke.msg = "the endpoint closed the connection without a whole answer"
	}
	return ke
}

// RemoteError is the error of an attempt made elsewhere, which reached
// Hookline as text with the kind the other side decided from the error
// itself: a listen device reports why its local app gave no answer. A kind
// that is not one of the hookline.AttemptError… kinds (an older device
// sends none) is AttemptErrorOther.
func RemoteError(kind, msg string) error {
	switch kind {
	case hookline.AttemptErrorRefused, hookline.AttemptErrorTimeout, hookline.AttemptErrorTLS,
		hookline.AttemptErrorDNS, hookline.AttemptErrorUnreachable, hookline.AttemptErrorClosed,
		hookline.AttemptErrorCanceled, hookline.AttemptErrorOther:
	default:
		kind = hookline.AttemptErrorOther
	}
	return &kindError{kind: kind, err: errors.New(msg)}
}

// kindError is an attempt's error with its kind, decided while the error's
// type is still known, and optionally a shorter message for people.
type kindError struct {
	kind string
	msg  string // "" for err's own
	err  error
}

func (e *kindError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return e.err.Error()
}

func (e *kindError) Unwrap() error { return e.err }

// ErrorKind returns the kind of an attempt's error, one of the
// hookline.AttemptError… kinds ("" for nil): the word `events attempts`, the
// API's error_kind and the dashboard show instead of a status of 0.
func ErrorKind(err error) string {
	var (
		ke      *kindError
		netErr  net.Error
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		header  tls.RecordHeaderError
		alert   tls.AlertError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ke):
		return ke.kind
	case errors.Is(err, context.Canceled):
		return hookline.AttemptErrorCanceled
	case errors.As(err, &dnsErr) && !dnsErr.IsTimeout:
		return hookline.AttemptErrorDNS
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return hookline.AttemptErrorTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return hookline.AttemptErrorRefused
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return hookline.AttemptErrorUnreachable
	case errors.As(err, &certErr) || errors.As(err, &header) || errors.As(err, &alert) ||
		errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid):
		return hookline.AttemptErrorTLS
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return hookline.AttemptErrorClosed
	}
	return hookline.AttemptErrorOther
}
