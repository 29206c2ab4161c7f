package listen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
)

// requestMessage builds the Deliver message that forwards t.Request, a
// request captured at a source, to a device: the method, query, headers and
// body bytes delivery.ForwardSender would send over HTTP.
func requestMessage(ctx context.Context, t *hookline.Task) (Message, error) {
	r := t.Request
	// ForwardRequest is the one place that decides what a forwarded request
	// carries (hop-by-hop headers dropped, X-Hookline-Request-Id and
	// X-Hookline-Source added, the provider's User-Agent kept). The device's
	// listen:// URL stands in for the local URL, which only the device
	// knows; what is taken from the result is independent of it.
	req, err := delivery.ForwardRequest(ctx, t.Endpoint.URL, r)
	if err != nil {
		return Message{}, fmt.Errorf("forwarding request %s to a listen device: %w", r.ID, err)
	}
	return Message{
		EventID: r.ID, EventType: RequestLabel(r), SourceID: r.SourceID,
		Method: req.Method, Path: r.Path, Query: req.URL.RawQuery, Header: req.Header, Body: r.Body,
	}, nil
}

// maxLabelBody bounds the body RequestLabel parses for a type field; a
// larger body is labelled by its method and path.
const maxLabelBody = 1 << 20

// RequestLabel names a captured request for a developer watching it
// arrive: the provider's event type when the request says it — a
// GitHub, GitLab, Shopify or Bitbucket event header, or a top-level "type"
// string in a JSON body (Stripe, Standard Webhooks and many others) — and
// otherwise the path it arrived at. The device prints it after the method.
func RequestLabel(r *hookline.InboundRequest) string {
	h := http.Header(r.Headers)
	for _, name := range []string{"X-Github-Event", "X-Gitlab-Event", "X-Shopify-Topic", "X-Event-Key"} {
		if v := strings.TrimSpace(h.Get(name)); v != "" {
			return v
		}
	}
	body := bytes.TrimSpace(r.Body)
	if len(body) > 0 && len(body) <= maxLabelBody && body[0] == '{' {
		var v struct {
			Type any `json:"type"`
		}
		if json.Unmarshal(body, &v) == nil {
			if s, ok := v.Type.(string); ok && s != "" && len(s) <= 200 {
				return s
			}
		}
	}
	if r.Path == "" {
		return "/"
	}
	return r.Path
}
