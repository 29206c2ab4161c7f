package api

import (
	"encoding/json"
	"net/http"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
)

func (s *Server) publishEvent(w http.ResponseWriter, r *http.Request) error {
	var p struct {
		Type   string          `json:"type"`
		Data   json.RawMessage `json:"data"`
		Tenant string          `json:"tenant"`
	}
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, false); err != nil {
		return err
	}
	res, err := s.cfg.Publisher.Publish(r.Context(), delivery.PublishRequest{
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

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := hookline.EventFilter{Page: pg, Type: q.Get("type"), Tenant: q.Get("tenant")}
	if f.Type != "" && !hookline.ValidEventType(f.Type) {
		return hookline.Invalid("type", "type %q is not a valid event type", f.Type)
	}
	events, more, err := s.cfg.Store.ListEvents(r.Context(), f)
	if err != nil {
		return err
	}
	data := make([]json.RawMessage, len(events))
	for i, e := range events {
		data[i] = e.Payload
	}
	writeJSON(w, http.StatusOK, newList(data, more))
	return nil
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error {
	e, err := s.cfg.Store.Event(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, e.Payload)
	return nil
}

type attemptJSON struct {
	ID             string `json:"id"`
	Object         string `json:"object"`
	EventID        string `json:"event_id"`
	EndpointID     string `json:"endpoint_id"`
	DeliveryID     string `json:"delivery_id"`
	Attempt        int    `json:"attempt"`
	Created        int64  `json:"created"`
	URL            string `json:"url"`
	ResponseStatus int    `json:"response_status"`
	DurationMS     int64  `json:"duration_ms"`
	Error          string `json:"error"`
	ResponseBody   string `json:"response_body"`
	NextRetry      *int64 `json:"next_retry"`
}

func renderAttempt(a *hookline.Attempt) attemptJSON {
	j := attemptJSON{
		ID: a.ID, Object: "attempt", EventID: a.EventID, EndpointID: a.EndpointID, DeliveryID: a.DeliveryID,
		Attempt: a.Attempt, Created: a.Created.Unix(), URL: a.URL, ResponseStatus: a.ResponseStatus,
		DurationMS: a.DurationMS, Error: a.Error, ResponseBody: a.ResponseBody,
	}
	if !a.NextRetry.IsZero() {
		t := a.NextRetry.Unix()
		j.NextRetry = &t
	}
	return j
}

func (s *Server) listAttempts(w http.ResponseWriter, r *http.Request, f hookline.AttemptFilter) error {
	pg, err := page(r)
	if err != nil {
		return err
	}
	f.Page = pg
	attempts, more, err := s.cfg.Store.ListAttempts(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]attemptJSON, len(attempts))
	for i, a := range attempts {
		out[i] = renderAttempt(a)
	}
	writeJSON(w, http.StatusOK, newList(out, more))
	return nil
}

func (s *Server) listEventAttempts(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := s.cfg.Store.Event(r.Context(), id); err != nil {
		return err
	}
	return s.listAttempts(w, r, hookline.AttemptFilter{EventID: id, EndpointID: r.URL.Query().Get("endpoint_id")})
}

func (s *Server) listEndpointAttempts(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := s.cfg.Store.Endpoint(r.Context(), id); err != nil {
		return err
	}
	return s.listAttempts(w, r, hookline.AttemptFilter{EndpointID: id, EventID: r.URL.Query().Get("event_id")})
}

type deliveryJSON struct {
	ID            string `json:"id"`
	Object        string `json:"object"`
	EventID       string `json:"event_id"`
	EndpointID    string `json:"endpoint_id"`
	Status        string `json:"status"`
	Attempts      int    `json:"attempts"`
	NextAttemptAt *int64 `json:"next_attempt_at"`
	Created       int64  `json:"created"`
	Updated       int64  `json:"updated"`
}

func renderDeliveries(ds []*hookline.Delivery) []deliveryJSON {
	out := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = deliveryJSON{ID: d.ID, Object: "delivery", EventID: d.EventID, EndpointID: d.EndpointID,
			Status: d.Status, Attempts: d.Attempts, Created: d.Created.Unix(), Updated: d.Updated.Unix()}
		if d.Status == hookline.DeliveryPending {
			t := d.NextAttemptAt.Unix()
			out[i].NextAttemptAt = &t
		}
	}
	return out
}

// writeDeliveries answers the deliveries of id, an event's or a captured
// request's, as one list; the caller has checked that id exists.
func (s *Server) writeDeliveries(w http.ResponseWriter, r *http.Request, id string) error {
	ds, err := s.cfg.Store.Deliveries(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(renderDeliveries(ds), false))
	return nil
}

// writeResent wakes the engine for the deliveries a resend made due and
// answers them with status.
func (s *Server) writeResent(w http.ResponseWriter, status int, ds []*hookline.Delivery) {
	if s.cfg.Engine != nil {
		s.cfg.Engine.Wake()
	}
	writeJSON(w, status, newList(renderDeliveries(ds), false))
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := s.cfg.Store.Event(r.Context(), id); err != nil {
		return err
	}
	return s.writeDeliveries(w, r, id)
}

func (s *Server) resendEvent(w http.ResponseWriter, r *http.Request) error {
	var p struct {
		EndpointID string `json:"endpoint_id"`
	}
	if err := decode(w, r, s.cfg.MaxBodyBytes, &p, true); err != nil {
		return err
	}
	ds, err := s.cfg.Store.Resend(r.Context(), r.PathValue("id"), p.EndpointID, s.cfg.Now())
	if err != nil {
		return err
	}
	s.writeResent(w, http.StatusAccepted, ds)
	return nil
}
