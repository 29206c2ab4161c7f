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
// naming filter (checked first, whatever else is missing), event or
// event.data.
func (a *App) TestFilter(filter json.RawMessage, ev *FilterEvent) (bool, []string, error) {
	f, err := hookline.ParseFilter(filter, hookline.EventFilterFields)
	if err != nil {
		return false, nil, err
	}
	if ev == nil {
		return false, nil, hookline.Invalid("event", "event is required: {\"type\", \"tenant\", \"data\"} as it would be published")
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
