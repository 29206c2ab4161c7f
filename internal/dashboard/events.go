package dashboard

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httperr"
)

// The event pages: list, find by id, an event with each endpoint's
// attempts, and resend.

type eventsData struct {
	Type   string
	Events []*hookline.Event
	Next   string
	Err    string
}

func (e eventsData) formError() string { return e.Err }

func (d *Dashboard) Events(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if id := strings.TrimSpace(q.Get("id")); id != "" {
		if _, err := d.app.Event(r.Context(), id); err != nil {
			if hookline.ErrorCode(err) == hookline.ENOTFOUND {
				return d.Render(w, r, httperr.Status(err), "events", "Events", eventsData{Err: "No event has the id " + id + "."})
			}
			return err
		}
		http.Redirect(w, r, "/events/"+url.PathEscape(id), http.StatusSeeOther)
		return nil
	}
	data := eventsData{Type: strings.TrimSpace(q.Get("type"))}
	evs, more, err := d.app.ListEvents(r.Context(), hookline.EventFilter{Type: data.Type,
		Page: hookline.Page{Limit: pageSize, StartingAfter: q.Get("after")}})
	if formError(err) {
		data.Err = hookline.ErrorMessage(err)
		return d.Render(w, r, httperr.Status(err), "events", "Events", data)
	}
	if err != nil {
		return err
	}
	data.Events = evs
	if more && len(evs) > 0 {
		data.Next = evs[len(evs)-1].ID
	}
	return d.Render(w, r, http.StatusOK, "events", "Events", data)
}

type timeline struct {
	Delivery *hookline.Delivery
	Endpoint *hookline.Endpoint // nil once deleted
	Attempts []*hookline.Attempt
}

// ShowURL tells the shared "timeline" block not to name each attempt's
// URL: an event's delivery goes to its endpoint, named in the card's head.
func (timeline) ShowURL() bool { return false }

type eventData struct {
	E       *hookline.Event
	Payload string
	// PayloadRaw: the payload is shown as stored, not indented (nested or
	// sized beyond indentJSON's caps); PayloadCut: only its beginning.
	PayloadRaw, PayloadCut bool
	Timelines              []timeline
}

func (d *Dashboard) Event(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	e, err := d.store.Event(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	ds, err := d.store.Deliveries(ctx, e.ID)
	if err != nil {
		return err
	}
	data := eventData{E: e}
	if text, ok := indentJSON(e.Payload); ok {
		data.Payload = text
	} else {
		shown, cut := cutAtRune(e.Payload, maxShownPayload)
		data.Payload, data.PayloadRaw, data.PayloadCut = string(shown), true, cut
	}
	// One page of attempts per event: 100 covers a delivery's whole retry
	// schedule many times over.
	attempts, _, err := d.store.ListAttempts(ctx, hookline.AttemptFilter{EventID: e.ID, Page: hookline.Page{Limit: 100}})
	if err != nil {
		return err
	}
	for _, dl := range ds {
		t := timeline{Delivery: dl}
		if ep, err := d.store.Endpoint(ctx, dl.EndpointID); err == nil {
			t.Endpoint = ep
		}
		for _, a := range attempts {
			if a.DeliveryID == dl.ID {
				t.Attempts = append(t.Attempts, a)
			}
		}
		// Oldest first reads as a timeline.
		slices.Reverse(t.Attempts)
		data.Timelines = append(data.Timelines, t)
	}
	return d.Render(w, r, http.StatusOK, "event", e.Type+" "+e.ID, data)
}

func (d *Dashboard) Resend(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ds, err := d.app.Resend(r.Context(), id, r.PostFormValue("endpoint_id"))
	if err != nil {
		return err
	}
	redirect(w, r, "/events/"+id, fmt.Sprintf("Resending to %d endpoint(s).", len(ds)))
	return nil
}
