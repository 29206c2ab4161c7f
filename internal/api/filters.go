package api

import (
	"encoding/json"
	"net/http"

	"github.com/hookline/hookline/internal/app"
)

// TestFilter is POST /v1/filters/test: it answers whether an endpoint filter takes an event, and if not
// which conditions fail, so that a filter can be tried before it is saved.
func (s *Server) TestFilter(w http.ResponseWriter, r *http.Request) error {
	var p struct {
		Filter json.RawMessage  `json:"filter"`
		Event  *app.FilterEvent `json:"event"`
	}
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	matches, reasons, err := s.app.TestFilter(p.Filter, p.Event)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "filter_test", "matches": matches, "reasons": reasons})
	return nil
}
