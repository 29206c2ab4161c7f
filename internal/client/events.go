package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/hookline/hookline/internal/apijson"
)

const eventsPath = "/v1/events"

// PublishParams are an event to publish.
type PublishParams struct {
	Type   string          `json:"type"`
	Data   json.RawMessage `json:"data,omitempty"`
	Tenant string          `json:"tenant,omitempty"`
	// IdempotencyKey, when set, makes publishing again with it within 24 h
	// answer the first event.
	IdempotencyKey string `json:"-"`
}

// PublishEvent is POST /v1/events. replayed says the idempotency key had
// published the event before.
func (c *Client) PublishEvent(ctx context.Context, p PublishParams) (e apijson.Event, replayed bool, err error) {
	var h http.Header
	if p.IdempotencyKey != "" {
		h = http.Header{"Idempotency-Key": {p.IdempotencyKey}}
	}
	raw, respHeader, err := c.Do(ctx, http.MethodPost, eventsPath, nil, p, h)
	if err != nil {
		return e, false, err
	}
	if err := decodeAnswer(raw, &e, http.MethodPost, eventsPath); err != nil {
		return e, false, err
	}
	return e, respHeader.Get("Idempotent-Replayed") == "true", nil
}

// ListEvents is GET /v1/events, newest first; typ and tenant "" are any.
func (c *Client) ListEvents(ctx context.Context, p Page, typ, tenant string) (apijson.List[apijson.Event], error) {
	return call[apijson.List[apijson.Event]](ctx, c, http.MethodGet, eventsPath, p.query(map[string]string{"type": typ, "tenant": tenant}), nil)
}

// Event is GET /v1/events/{id}: the event as endpoints receive it.
func (c *Client) Event(ctx context.Context, id string) (apijson.Event, error) {
	return call[apijson.Event](ctx, c, http.MethodGet, resource(eventsPath, id), nil, nil)
}

// EventAttempts is GET /v1/events/{id}/attempts, newest first;
// endpointID "" is every endpoint's.
func (c *Client) EventAttempts(ctx context.Context, id string, p Page, endpointID string) (apijson.List[apijson.Attempt], error) {
	return call[apijson.List[apijson.Attempt]](ctx, c, http.MethodGet, resource(eventsPath, id, "attempts"), p.query(map[string]string{"endpoint_id": endpointID}), nil)
}

// ResendEvent is POST /v1/events/{id}/resend: to endpointID, or to every
// subscribed endpoint when it is "".
func (c *Client) ResendEvent(ctx context.Context, id, endpointID string) (apijson.List[apijson.Delivery], error) {
	body := Fields{}
	if endpointID != "" {
		body["endpoint_id"] = endpointID
	}
	return call[apijson.List[apijson.Delivery]](ctx, c, http.MethodPost, resource(eventsPath, id, "resend"), nil, body)
}
