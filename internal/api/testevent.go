package api

import (
	"net/http"

	"github.com/hookline/hookline/internal/hookline"
)

// sendTestEvent publishes a hookline.test event to one endpoint alone,
// whatever it subscribes to, and answers the event (201). Other endpoints,
// even those subscribed to "*", do not get it. A disabled endpoint is a
// conflict: it would get no delivery.
func (s *Server) sendTestEvent(w http.ResponseWriter, r *http.Request) error {
	e, err := s.cfg.Store.Endpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if e.Status != hookline.EndpointEnabled {
		return hookline.Errorf(hookline.ECONFLICT, "endpoint %s is disabled; enable it to send it a test event", e.ID)
	}
	res, err := s.cfg.Publisher.PublishTest(r.Context(), e, "API")
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusCreated, res.Event.Payload)
	return nil
}
