package app

import (
	"encoding/json"

	"github.com/hookline/hookline/internal/hookline"
)

// TestFilter reports whether an endpoint filter would take an event of
// typ, tenant and data, and else why not: one sentence per condition that
// fails. Errors are EINVALID naming filter or event.data.
func (a *App) TestFilter(filter json.RawMessage, typ, tenant string, data json.RawMessage) (bool, []string, error) {
	f, err := hookline.ParseFilter(filter, hookline.EventFilterFields)
	if err != nil {
		return false, nil, err
	}
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
