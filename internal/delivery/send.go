package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/webhook"
)

// maxResponseBody is how much of a response body an attempt keeps.
const maxResponseBody = 4 << 10

// drainLimit is how much more of a response is read (and thrown away) so the
// connection can be reused; past it the connection is closed instead.
const drainLimit = 64 << 10

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

// Sender makes one attempt of a task. The Engine uses an HTTPSender for
// endpoints with http(s) URLs; other transports (a developer's listen
// session) plug in through Engine.Route.
type Sender interface {
	Send(ctx context.Context, t *hookline.Task, now time.Time) Response
}

// HTTPSender POSTs signed event payloads over HTTP.
type HTTPSender struct {
	Client    *http.Client
	UserAgent string

	signers sync.Map // secret → *webhook.Signer; decoding a secret per request costs more than the HMAC
}

// NewHTTPClient returns the client deliveries are made with: no redirects
// followed (a 3xx is an answer, not a success), pooled connections, and,
// unless allowPrivate, no connections to private or loopback addresses.
func NewHTTPClient(allowPrivate bool) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           netguard.Dialer(allowPrivate).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 0, // the per-attempt context bounds the whole attempt
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// SignHeaders sets the signature headers of scheme on h for a request
// carrying body, signed at now with each of secrets.
func (s *HTTPSender) SignHeaders(h http.Header, scheme, msgID string, body []byte, now time.Time, secrets []string) error {
	switch scheme {
	case hookline.SchemeStripe:
		h.Set("Stripe-Signature", webhook.StripeSignature(now, body, secrets...))
	default:
		var sig []byte
		for i, secret := range secrets {
			signer, err := s.signer(secret)
			if err != nil {
				return err
			}
			if i > 0 {
				sig = append(sig, ' ')
			}
			sig = append(sig, signer.Sign(msgID, now, body)...)
		}
		h.Set(webhook.HeaderID, msgID)
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(webhook.HeaderSignature, string(sig))
	}
	return nil
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
func (s *HTTPSender) Send(ctx context.Context, t *hookline.Task, now time.Time) Response {
	ep, ev := t.Endpoint, t.Event
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(ev.Payload))
	if err != nil {
		return Response{Err: fmt.Errorf("building request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.UserAgent)
	if err := s.SignHeaders(req.Header, ep.SignatureScheme, ev.ID, ev.Payload, now, ep.Secrets(now)); err != nil {
		return Response{Err: err}
	}
	return Do(s.Client, req)
}

// Do sends req and reads the start of the answer.
func Do(c *http.Client, req *http.Request) Response {
	resp, err := c.Do(req)
	if err != nil {
		return Response{Err: describeTransportError(err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	return Response{Status: resp.StatusCode, Body: string(body), RetryAfter: resp.Header.Get("Retry-After")}
}

// describeTransportError turns a client error into a short reason a person
// reading an attempt understands.
func describeTransportError(err error) error {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return errors.New("timed out waiting for the endpoint")
	case errors.Is(err, context.Canceled):
		return errors.New("canceled: Hookline was shutting down")
	}
	var urlErr interface{ Unwrap() error }
	if errors.As(err, &urlErr) {
		if inner := urlErr.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}
