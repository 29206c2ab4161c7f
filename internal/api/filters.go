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
	if p.Event == nil {
		if _, err := hookline.ParseFilter(p.Filter, hookline.EventFilterFields); err != nil {
			return err // a bad filter is named first, whatever else is missing
		}
		return hookline.Invalid("event", "event is required: {\"type\", \"tenant\", \"data\"} as it would be published")
	}
	matches, reasons, err := s.app.TestFilter(p.Filter, p.Event.Type, p.Event.Tenant, p.Event.Data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "filter_test", "matches": matches, "reasons": reasons})
	return nil
}
