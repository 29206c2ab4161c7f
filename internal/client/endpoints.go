package client

import (
	"context"
	"net/http"

	"github.com/hookline/hookline/internal/apijson"
)

const endpointsPath = "/v1/endpoints"

// CreateEndpoint is POST /v1/endpoints; the answer shows the secret.
func (c *Client) CreateEndpoint(ctx context.Context, f Fields) (apijson.Endpoint, error) {
	return call[apijson.Endpoint](ctx, c, http.MethodPost, endpointsPath, nil, f)
}

// UpdateEndpoint is PATCH /v1/endpoints/{id}.
func (c *Client) UpdateEndpoint(ctx context.Context, id string, f Fields) (apijson.Endpoint, error) {
	return call[apijson.Endpoint](ctx, c, http.MethodPatch, resource(endpointsPath, id), nil, f)
}

// ListEndpoints is GET /v1/endpoints, newest first; tenant "" is every
// tenant's.
func (c *Client) ListEndpoints(ctx context.Context, p Page, tenant string) (apijson.List[apijson.Endpoint], error) {
	return call[apijson.List[apijson.Endpoint]](ctx, c, http.MethodGet, endpointsPath, p.query(map[string]string{"tenant": tenant}), nil)
}

// Endpoint is GET /v1/endpoints/{id}.
func (c *Client) Endpoint(ctx context.Context, id string) (apijson.Endpoint, error) {
	return call[apijson.Endpoint](ctx, c, http.MethodGet, resource(endpointsPath, id), nil, nil)
}

// DeleteEndpoint is DELETE /v1/endpoints/{id}.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) (apijson.Deleted, error) {
	return call[apijson.Deleted](ctx, c, http.MethodDelete, resource(endpointsPath, id), nil, nil)
}

// EndpointSecret is GET /v1/endpoints/{id}/secret.
func (c *Client) EndpointSecret(ctx context.Context, id string) (apijson.Secret, error) {
	return call[apijson.Secret](ctx, c, http.MethodGet, resource(endpointsPath, id, "secret"), nil, nil)
}

// RotateEndpointSecret is POST /v1/endpoints/{id}/secret/rotate; a nil
// overlap is the server's.
func (c *Client) RotateEndpointSecret(ctx context.Context, id string, overlapSeconds *int64) (apijson.Secret, error) {
	body := Fields{}
	if overlapSeconds != nil {
		body["overlap_seconds"] = *overlapSeconds
	}
	return call[apijson.Secret](ctx, c, http.MethodPost, resource(endpointsPath, id, "secret", "rotate"), nil, body)
}

// SendTestEvent is POST /v1/endpoints/{id}/test: a hookline.test event to
// that endpoint alone.
func (c *Client) SendTestEvent(ctx context.Context, id string) (apijson.Event, error) {
	return call[apijson.Event](ctx, c, http.MethodPost, resource(endpointsPath, id, "test"), nil, nil)
}

// RecoverEndpoint is POST /v1/endpoints/{id}/recover: a job resending the
// endpoint's failed deliveries created from since until until (unix
// seconds; until 0 is now).
func (c *Client) RecoverEndpoint(ctx context.Context, id string, since, until int64) (apijson.Job, error) {
	body := Fields{"since": since}
	if until != 0 {
		body["until"] = until
	}
	return call[apijson.Job](ctx, c, http.MethodPost, resource(endpointsPath, id, "recover"), nil, body)
}

// Job is GET /v1/jobs/{id}.
func (c *Client) Job(ctx context.Context, id string) (apijson.Job, error) {
	return call[apijson.Job](ctx, c, http.MethodGet, resource("/v1/jobs", id), nil, nil)
}
