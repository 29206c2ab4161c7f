package delivery

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httpclient"
)

// Headers Hookline adds to a forwarded request.
const (
	HeaderRequestID = "X-Hookline-Request-Id"
	HeaderSource    = "X-Hookline-Source"
)

// hopByHop are the headers that describe one connection, not the request
// (RFC 9110 §7.6.1), so a forwarder must not pass them on.
var hopByHop = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
	// Not hop-by-hop, but set by the transport from the request itself.
	"Host", "Content-Length",
}

// ForwardSender forwards captured inbound requests as they arrived: the
// same method, the same body bytes and the provider's headers (hop-by-hop
// ones aside), plus X-Hookline-Request-Id and X-Hookline-Source, so that
// the destination can check the provider's own signature.
type ForwardSender struct {
	Client *httpclient.Client
}

// Send forwards t.Request to t.Endpoint.URL.
func (f *ForwardSender) Send(ctx context.Context, t *hookline.Task, _, deadline time.Time) Response {
	if t.Request == nil {
		return Response{Err: fmt.Errorf("task %s carries no inbound request", t.DeliveryID)}
	}
	method, u, h, err := forwarded(t.Endpoint.URL, t.Request)
	if err != nil {
		return Response{Err: err}
	}
	return Do(ctx, f.Client, &httpclient.Request{Method: method, URL: u, Header: h, Body: t.Request.Body, Deadline: deadline})
}

// ForwardRequest builds the request that forwards r to target. r's query
// string is appended to target's, since some providers sign or
// authenticate with it.
func ForwardRequest(ctx context.Context, target string, r *hookline.InboundRequest) (*http.Request, error) {
	method, u, h, err := forwarded(target, r)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(r.Body))
	if err != nil {
		return nil, fmt.Errorf("building forwarded request: %w", err)
	}
	req.Header = h
	if len(r.Body) == 0 && method != http.MethodPost && method != http.MethodPut && method != http.MethodPatch {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	return req, nil
}

// forwarded returns the method, URL and headers that forward r to target.
func forwarded(target string, r *hookline.InboundRequest) (string, *url.URL, http.Header, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", nil, nil, fmt.Errorf("forwarding to %q: %w", target, err)
	}
	if r.Query != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&" + r.Query
		} else {
			u.RawQuery = r.Query
		}
	}
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	h := ForwardHeaders(r.Headers)
	h.Set(HeaderRequestID, r.ID)
	h.Set(HeaderSource, r.SourceID)
	if h.Get("User-Agent") == "" {
		// An empty value keeps Go from adding its own: the destination sees
		// what the provider sent.
		h["User-Agent"] = []string{""}
	}
	return method, u, h, nil
}

// ForwardHeaders copies captured headers without the hop-by-hop ones
// (including those the Connection header names).
func ForwardHeaders(in map[string][]string) http.Header {
	out := make(http.Header, len(in)+2)
	for k, v := range in {
		out[textproto.CanonicalMIMEHeaderKey(k)] = append([]string(nil), v...)
	}
	for _, c := range out.Values("Connection") {
		for _, name := range strings.Split(c, ",") {
			if name = strings.TrimSpace(name); name != "" {
				out.Del(name)
			}
		}
	}
	for _, h := range hopByHop {
		out.Del(h)
	}
	return out
}

// senderFor picks the sender of t's attempt: for a captured request to an
// http(s) URL, a ForwardSender on the HTTP sender's client (so the SSRF
// guard and the pool apply alike); otherwise the transport of the URL's
// scheme, which sees t.Request itself (a listen session forwards it too).
// An endpoint whose sealed secrets did not open as it was claimed
// (Endpoint.SealErr) gets no sender: its attempt fails, on record like any
// other, rather than going out unsigned or without its headers.
func (e *Engine) senderFor(t *hookline.Task) (Sender, error) {
	if se := t.Endpoint.SealErr; se != nil {
		return nil, fmt.Errorf("the endpoint's secret cannot be opened: %w; %s", se.Err, se.Fix())
	}
	s, err := e.sender(t.Endpoint.URL)
	if err != nil || t.Request == nil {
		return s, err
	}
	if hs, ok := s.(*HTTPSender); ok {
		return &ForwardSender{Client: hs.Client}, nil
	}
	return s, nil
}
