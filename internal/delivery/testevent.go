package delivery

import (
	"context"
	"encoding/json"

	"github.com/hookline/hookline/internal/hookline"
)

// TestEventType is the type of the events PublishTest sends.
const TestEventType = "hookline.test"

// PublishTest publishes a hookline.test event to endpoint e alone, as the
// dashboard's "Send test event" and POST /v1/endpoints/{id}/test do: the
// endpoint gets it whatever it subscribes to, and no other endpoint gets it
// (not even those subscribed to "*"). The event carries the endpoint's
// tenant. from says who sent it ("dashboard", "API"). A disabled endpoint
// gets no delivery; callers that care check e.Status first.
func (p *Publisher) PublishTest(ctx context.Context, e *hookline.Endpoint, from string) (hookline.Published, error) {
	data, _ := json.Marshal(map[string]string{ // marshalling strings cannot fail
		"message":     "A test event sent from the Hookline " + from + ".",
		"endpoint_id": e.ID,
	})
	return p.Publish(ctx, PublishRequest{Type: TestEventType, Data: data, Tenant: e.Tenant, OnlyEndpoint: e.ID, Operational: true})
}
