package listen

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
)

func TestRequestLabel(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		headers map[string][]string
		body    string
		path    string
		want    string
	}{
		{"stripe body type", nil, `{"id":"evt_1","type":"invoice.paid"}`, "/in/src_1", "invoice.paid"},
		{"github event header", map[string][]string{"X-Github-Event": {"push"}}, `{"type":"ignored"}`, "/in/src_1", "push"},
		{"gitlab event header", map[string][]string{"X-Gitlab-Event": {"Merge Request Hook"}}, `{}`, "/in/src_1", "Merge Request Hook"},
		{"shopify topic", map[string][]string{"X-Shopify-Topic": {"orders/create"}}, `{"id":1}`, "/in/src_1", "orders/create"},
		{"non-string type", nil, `{"type":3}`, "/in/src_1/x", "/in/src_1/x"},
		{"form body", nil, `type=a&b=c`, "/in/src_1", "/in/src_1"},
		{"not JSON", nil, `{"type":`, "/in/src_1", "/in/src_1"},
		{"empty path", nil, ``, "", "/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := &hookline.InboundRequest{Method: "POST", Path: c.path, Headers: c.headers, Body: []byte(c.body)}
			if got := RequestLabel(r); got != c.want {
				t.Errorf("RequestLabel = %q, want %q", got, c.want)
			}
		})
	}
}

// The message for a captured request carries what delivery.ForwardRequest
// would send over HTTP, and its body survives the websocket's JSON
// encoding byte for byte.
func TestRequestMessageMatchesForwardRequest(t *testing.T) {
	t.Parallel()
	r := &hookline.InboundRequest{
		ID: "req_1", SourceID: "src_1", Method: http.MethodPatch, Path: "/in/src_1", Query: "a=1&b=%20",
		Headers: map[string][]string{
			"Stripe-Signature": {"t=1,v1=abc"}, "Connection": {"keep-alive, X-Drop"}, "X-Drop": {"1"},
			"Content-Length": {"12"}, "Host": {"example.com"}, "X-Multi": {"1", "2"},
		},
		Body: []byte("{\"b\":1,  \"a\":\"\\u00e9\"}\x00\xff"),
	}
	task := &hookline.Task{DeliveryID: "dlv_1", Attempt: 2, Request: r,
		Event:    &hookline.Event{ID: r.ID, Type: "inbound.request", Payload: r.Body},
		Endpoint: &hookline.Endpoint{ID: "con_1", URL: "listen://laptop"}}
	m, err := requestMessage(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	want, err := delivery.ForwardRequest(context.Background(), "http://localhost:8000/webhook", r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var got Message
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Method != want.Method || got.Query != want.URL.RawQuery || got.SourceID != "src_1" || got.EventID != "req_1" {
		t.Errorf("method %q query %q source %q id %q; want %q %q src_1 req_1", got.Method, got.Query, got.SourceID, got.EventID, want.Method, want.URL.RawQuery)
	}
	if !bytes.Equal(got.Body, r.Body) {
		t.Errorf("body %q, want %q", got.Body, r.Body)
	}
	if len(got.Header) != len(want.Header) {
		t.Errorf("headers %v, want %v", got.Header, want.Header)
	}
	for k, v := range want.Header {
		if g := got.Header[k]; !slices.Equal(g, v) {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	for _, k := range []string{"Connection", "X-Drop", "Content-Length", "Host"} {
		if _, ok := got.Header[k]; ok {
			t.Errorf("hop-by-hop header %s forwarded", k)
		}
	}
}
