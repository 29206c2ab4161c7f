// Package client is a typed Go client for Hookline's HTTP API, used by the
// CLI commands that talk to a running server: a method a route, answering
// the shapes the API itself renders (internal/apijson), one file a
// resource. Do and JSON reach routes it has no method for.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/apijson"
)

// Client calls one Hookline server.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	APIKey  string
	HTTP    *http.Client
}

// New returns a client for the server at baseURL.
func New(baseURL, apiKey string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), APIKey: apiKey, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Error is an error answered by the server.
type Error struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param"`
}

func (e *Error) Error() string {
	if e.Param != "" {
		return fmt.Sprintf("%s (%s, param %s)", e.Message, e.Code, e.Param)
	}
	return fmt.Sprintf("%s (%s)", e.Message, e.Code)
}

// Do sends a request with an optional JSON body and returns the raw JSON
// answer. Non-2xx answers come back as *Error.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body any, header http.Header) ([]byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, fmt.Errorf("encoding request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("building request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot reach the Hookline server at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb struct {
			Error *Error `json:"error"`
		}
		if json.Unmarshal(b, &eb) == nil && eb.Error != nil {
			eb.Error.Status = resp.StatusCode
			return nil, resp.Header, eb.Error
		}
		return nil, resp.Header, &Error{Status: resp.StatusCode, Code: "http_error",
			Message: fmt.Sprintf("%s %s answered %s: %.200s", method, path, resp.Status, b)}
	}
	return b, resp.Header, nil
}

// JSON is Do decoding the answer into out.
func (c *Client) JSON(ctx context.Context, method, path string, query url.Values, body, out any) error {
	b, _, err := c.Do(ctx, method, path, query, body, nil)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return decodeAnswer(b, out, method, path)
}

func decodeAnswer(b []byte, out any, method, path string) error {
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decoding the answer of %s %s: %w", method, path, err)
	}
	return nil
}

// call is JSON for a route answering a T.
func call[T any](ctx context.Context, c *Client, method, path string, query url.Values, body any) (T, error) {
	var out T
	err := c.JSON(ctx, method, path, query, body, &out)
	return out, err
}

// Page is where a list starts and how long it is. Limit is sent as it is,
// so that one out of range (1 to 100) is the server's error to name.
type Page struct {
	Limit         int
	StartingAfter string
}

// query is the page's query, with the filters that are set.
func (p Page) query(filters map[string]string) url.Values {
	q := url.Values{"limit": {strconv.Itoa(p.Limit)}}
	if p.StartingAfter != "" {
		q.Set("starting_after", p.StartingAfter)
	}
	for k, v := range filters {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// Fields are a create's or an update's request fields: only those given
// are sent, and a nil value is JSON null (for most fields: back to the
// server's default).
type Fields map[string]any

// resource is the path of one resource under a collection.
func resource(collection, id string, sub ...string) string {
	p := collection + "/" + url.PathEscape(id)
	for _, s := range sub {
		p += "/" + s
	}
	return p
}

// RotateSecretKey is POST /v1/secrets/rotate-key: every secret at rest
// re-sealed under a new key.
func (c *Client) RotateSecretKey(ctx context.Context) (apijson.KeyRotation, error) {
	return call[apijson.KeyRotation](ctx, c, http.MethodPost, "/v1/secrets/rotate-key", nil, nil)
}
