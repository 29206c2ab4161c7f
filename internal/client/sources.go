package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/hookline/hookline/internal/apijson"
)

const (
	sourcesPath     = "/v1/sources"
	connectionsPath = "/v1/connections"
)

// CreateSource is POST /v1/sources.
func (c *Client) CreateSource(ctx context.Context, f Fields) (apijson.Source, error) {
	return call[apijson.Source](ctx, c, http.MethodPost, sourcesPath, nil, f)
}

// UpdateSource is PATCH /v1/sources/{id}; id may be the source's name.
func (c *Client) UpdateSource(ctx context.Context, id string, f Fields) (apijson.Source, error) {
	return call[apijson.Source](ctx, c, http.MethodPatch, resource(sourcesPath, id), nil, f)
}

// ListSources is GET /v1/sources, newest first.
func (c *Client) ListSources(ctx context.Context, p Page) (apijson.List[apijson.Source], error) {
	return call[apijson.List[apijson.Source]](ctx, c, http.MethodGet, sourcesPath, p.query(nil), nil)
}

// Source is GET /v1/sources/{id}; id may be the source's name.
func (c *Client) Source(ctx context.Context, id string) (apijson.Source, error) {
	return call[apijson.Source](ctx, c, http.MethodGet, resource(sourcesPath, id), nil, nil)
}

// SourceSecret is GET /v1/sources/{id}/secret; id may be the source's name.
func (c *Client) SourceSecret(ctx context.Context, id string) (apijson.SourceSecret, error) {
	return call[apijson.SourceSecret](ctx, c, http.MethodGet, resource(sourcesPath, id, "secret"), nil, nil)
}

// DeleteSource is DELETE /v1/sources/{id}; id may be the source's name.
func (c *Client) DeleteSource(ctx context.Context, id string) (apijson.Deleted, error) {
	return call[apijson.Deleted](ctx, c, http.MethodDelete, resource(sourcesPath, id), nil, nil)
}

// ConnectionParams are a connection to create.
type ConnectionParams struct {
	SourceID string          `json:"source_id"` // the source's id or name
	URL      string          `json:"url"`
	Filter   json.RawMessage `json:"filter,omitempty"` // none: every request
}

// CreateConnection is POST /v1/connections.
func (c *Client) CreateConnection(ctx context.Context, p ConnectionParams) (apijson.Connection, error) {
	return call[apijson.Connection](ctx, c, http.MethodPost, connectionsPath, nil, p)
}

// ListConnections is GET /v1/connections; sourceID "" is every source's.
func (c *Client) ListConnections(ctx context.Context, p Page, sourceID string) (apijson.List[apijson.Connection], error) {
	return call[apijson.List[apijson.Connection]](ctx, c, http.MethodGet, connectionsPath, p.query(map[string]string{"source_id": sourceID}), nil)
}

// DeleteConnection is DELETE /v1/connections/{id}.
func (c *Client) DeleteConnection(ctx context.Context, id string) (apijson.Deleted, error) {
	return call[apijson.Deleted](ctx, c, http.MethodDelete, resource(connectionsPath, id), nil, nil)
}
