package api

import (
	"encoding/json"
	"net/http"

	"github.com/hookline/hookline/internal/apijson"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
)

// PublishEvent is POST /v1/events: 201 with the event once it is durably
// stored.
func (s *Server) PublishEvent(w http.ResponseWriter, r *http.Request) error {
	var p struct {
		Type   string          `json:"type"`
		Data   json.RawMessage `json:"data"`
		Tenant string          `json:"tenant"`
	}
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	res, err := s.app.Publish(r.Context(), delivery.PublishRequest{
		Type: p.Type, Data: p.Data, Tenant: p.Tenant, IdempotencyKey: r.Header.Get("Idempotency-Key"),
	})
	if err != nil {
		return err
	}
	if res.Duplicate {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeRaw(w, http.StatusCreated, res.Event.Payload)
	return nil
}

// ListEvents is GET /v1/events.
func (s *Server) ListEvents(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	events, more, err := s.app.ListEvents(r.Context(), hookline.EventFilter{Page: pg, Type: q.Get("type"), Tenant: q.Get("tenant")})
	if err != nil {
		return err
	}
	data := make([]json.RawMessage, len(events))
	for i, e := range events {
		data[i] = e.Payload
	}
	writeJSON(w, http.StatusOK, apijson.NewList(data, more))
	return nil
}

// GetEvent is GET /v1/events/{id}: the event as endpoints receive it.
func (s *Server) GetEvent(w http.ResponseWriter, r *http.Request) error {
	e, err := s.app.Event(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, e.Payload)
	return nil
}

func renderAttempt(a *hookline.Attempt) apijson.Attempt {
	j := apijson.Attempt{
		ID: a.ID, Object: "attempt", EventID: a.EventID, EndpointID: a.EndpointID, DeliveryID: a.DeliveryID,
		Attempt: a.Attempt, Created: a.Created.Unix(), URL: a.URL, ResponseStatus: a.ResponseStatus,
		DurationMS: a.DurationMS, Error: a.Error, ErrorKind: a.ErrorKind, ResponseBody: a.ResponseBody,
	}
	if !a.NextRetry.IsZero() {
		t := a.NextRetry.Unix()
		j.NextRetry = &t
	}
	return j
}

// writeAttempts answers a page of attempts.
func writeAttempts(w http.ResponseWriter, attempts []*hookline.Attempt, more bool) {
	out := make([]apijson.Attempt, len(attempts))
	for i, a := range attempts {
		out[i] = renderAttempt(a)
	}
	writeJSON(w, http.StatusOK, apijson.NewList(out, more))
}

// ListEventAttempts is GET /v1/events/{id}/attempts.
func (s *Server) ListEventAttempts(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	as, more, err := s.app.EventAttempts(r.Context(), r.PathValue("id"),
		hookline.AttemptFilter{Page: pg, EndpointID: r.URL.Query().Get("endpoint_id")})
	if err != nil {
		return err
	}
	writeAttempts(w, as, more)
	return nil
}

// writeDeliveries answers deliveries, an event's or a captured request's,
// as one list.
func writeDeliveries(w http.ResponseWriter, status int, ds []*hookline.Delivery) {
	out := make([]apijson.Delivery, len(ds))
	for i, d := range ds {
		out[i] = apijson.Delivery{ID: d.ID, Object: "delivery", EventID: d.EventID, EndpointID: d.EndpointID,
			Status: d.Status, Attempts: d.Attempts, Created: d.Created.Unix(), Updated: d.Updated.Unix()}
		if d.Status == hookline.DeliveryPending {
			t := d.NextAttemptAt.Unix()
			out[i].NextAttemptAt = &t
		}
	}
	writeJSON(w, status, apijson.NewList(out, false))
}

// ListDeliveries is GET /v1/events/{id}/deliveries.
func (s *Server) ListDeliveries(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.app.EventDeliveries(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeDeliveries(w, http.StatusOK, ds)
	return nil
}

// ResendEvent is POST /v1/events/{id}/resend.
func (s *Server) ResendEvent(w http.ResponseWriter, r *http.Request) error {
	var p struct {
		EndpointID string `json:"endpoint_id"`
	}
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, true); err != nil {
		return err
	}
	ds, err := s.app.Resend(r.Context(), r.PathValue("id"), p.EndpointID)
	if err != nil {
		return err
	}
	writeDeliveries(w, http.StatusAccepted, ds)
	return nil
}
