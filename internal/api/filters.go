package api

import (
	"encoding/json"
	"net/http"

	"github.com/hookline/hookline/internal/hookline"
)

// TestFilter is POST /v1/filters/test: it answers whether an endpoint filter takes an event, and if not
// which conditions fail, so that a filter can be tried before it is saved.
func (s *Server) TestFilter(w http.ResponseWriter, r *http.Request) error {
	var p struct {
		Filter json.RawMessage `json:"filter"`
		Event  *struct {
			Type   string          `json:"type"`
			Tenant string          `json:"tenant"`
			Data   json.RawMessage `json:"data"`
		} `json:"event"`
	}
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	f, err := hookline.ParseFilter(p.Filter, hookline.EventFilterFields)
	if err != nil {
		return err
	}
	if p.Event == nil {
		return hookline.Invalid("event", "event is required: {\"type\", \"tenant\", \"data\"} as it would be published")
	}
	data := p.Event.Data
	if len(data) == 0 || string(data) == "null" {
		data = json.RawMessage("{}")
	}
	payload, err := hookline.NewEventPayload("evt_test", p.Event.Type, s.app.Now(), p.Event.Tenant, data)
	if err != nil {
		return hookline.Invalid("event.data", "event.data must be a JSON object")
	}
	doc := &hookline.EventDocument{Event: &hookline.Event{Type: p.Event.Type, Tenant: p.Event.Tenant, Payload: payload}}
	reasons := f.Explain(doc)
	if reasons == nil {
		reasons = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "filter_test", "matches": len(reasons) == 0, "reasons": reasons})
	return nil
}
