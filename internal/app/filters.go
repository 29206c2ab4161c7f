package app

import (
	"encoding/json"

	"github.com/hookline/hookline/internal/hookline"
)

// FilterEvent is an event as it would be published, for TestFilter.
type FilterEvent struct {
	Type   string          `json:"type"`
	Tenant string          `json:"tenant"`
	Data   json.RawMessage `json:"data"`
}

// TestFilter reports whether an endpoint filter would take ev, and else
// why not: one sentence per condition that fails. Errors are EINVALID
// naming filter (checked first, whatever else is missing), event,
// event.type or event.data. The filter is required: an absent one is a
// mistake, not a filter that takes everything.
func (a *App) TestFilter(filter json.RawMessage, ev *FilterEvent) (bool, []string, error) {
	if len(filter) == 0 || string(filter) == "null" {
		// Nothing to test: answering "matches" would pass a filter the
		// caller forgot to send. {} (match everything) is one to test.
		return false, nil, hookline.Invalid("filter", "filter is required: the endpoint filter to test, like {\"type\": \"invoice.*\"}")
	}
	return a.testFilter(filter, ev)
}

// TestFilterAsSaved is TestFilter for a filter as an endpoint would save
// it: empty or null is no filter, which takes every event. It serves the
// dashboard's endpoint form, where an empty filter box is how an endpoint
// has no filter; the API's caller says so with {} and has a forgotten
// filter refused (TestFilter).
func (a *App) TestFilterAsSaved(filter json.RawMessage, ev *FilterEvent) (bool, []string, error) {
	return a.testFilter(filter, ev) // ParseFilter reads empty and null as {}
}

func (a *App) testFilter(filter json.RawMessage, ev *FilterEvent) (bool, []string, error) {
	f, err := hookline.ParseFilter(filter, hookline.EventFilterFields)
	if err != nil {
		return false, nil, err
	}
	if ev == nil {
		return false, nil, hookline.Invalid("event", "event is required: {\"type\", \"tenant\", \"data\"} as it would be published")
	}
	if ev.Type == "" {
		// Every published event has a type: one without would test an
		// event that cannot be.
		return false, nil, hookline.Invalid("event.type", "event.type is required, as it is on every published event")
	}
	typ, tenant, data := ev.Type, ev.Tenant, ev.Data
	if len(data) == 0 || string(data) == "null" {
		data = json.RawMessage("{}")
	}
	payload, err := hookline.NewEventPayload("evt_test", typ, a.cfg.Now(), tenant, data)
	if err != nil || data[0] != '{' {
		return false, nil, hookline.Invalid("event.data", "event.data must be a JSON object")
	}
	reasons := f.Explain(&hookline.EventDocument{Event: &hookline.Event{Type: typ, Tenant: tenant, Payload: payload}})
	if reasons == nil {
		reasons = []string{}
	}
	return len(reasons) == 0, reasons, nil
}
