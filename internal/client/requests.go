package client

import (
	"context"
	"net/http"

	"github.com/hookline/hookline/internal/apijson"
)

const requestsPath = "/v1/requests"

// RequestFilter picks captured requests; "" fields pick any.
type RequestFilter struct {
	SourceID string // the source's id or name
	Status   string // accepted, rejected, duplicate or replay
	Search   string // text in the headers or body
	Since    string // unix seconds or RFC 3339
}

// ListRequests is GET /v1/requests, newest first, without bodies.
func (c *Client) ListRequests(ctx context.Context, p Page, f RequestFilter) (apijson.List[apijson.Request], error) {
	q := p.query(map[string]string{"source_id": f.SourceID, "status": f.Status, "q": f.Search, "since": f.Since})
	return call[apijson.List[apijson.Request]](ctx, c, http.MethodGet, requestsPath, q, nil)
}

// Request is GET /v1/requests/{id}, with its body.
func (c *Client) Request(ctx context.Context, id string) (apijson.Request, error) {
	return call[apijson.Request](ctx, c, http.MethodGet, resource(requestsPath, id), nil, nil)
}

// RequestBody is GET /v1/requests/{id}/raw: the body bytes as received.
func (c *Client) RequestBody(ctx context.Context, id string) ([]byte, error) {
	body, _, err := c.Do(ctx, http.MethodGet, resource(requestsPath, id, "raw"), nil, nil, nil)
	return body, err
}

// ReplayRequest is POST /v1/requests/{id}/replay.
func (c *Client) ReplayRequest(ctx context.Context, id string, p apijson.ReplayParams) (apijson.Replay, error) {
	return call[apijson.Replay](ctx, c, http.MethodPost, resource(requestsPath, id, "replay"), nil, p)
}
