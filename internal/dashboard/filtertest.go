package dashboard

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httperr"
)

// filterTest is the endpoint form's "Test filter" box: a sample event, and
// once tried, whether the filter typed in the form takes it and why not.
type filterTest struct {
	Type    string
	Tenant  string
	Data    string
	Ran     bool
	Matches bool
	Reasons []string
}

func newFilterTest() filterTest {
	return filterTest{Type: "order.created", Data: `{"amount": 100}`}
}

func readFilterTest(r *http.Request) filterTest {
	return filterTest{Type: strings.TrimSpace(r.PostFormValue("test_type")), Tenant: strings.TrimSpace(r.PostFormValue("test_tenant")),
		Data: r.PostFormValue("test_data")}
}

// TestFilter is POST /endpoints/filter-test (the new endpoint form) and
// POST /endpoints/{id}/filter-test (the edit form): the filter typed in
// the form tried on the sample event by app.TestFilterAsSaved (the judge
// of POST /v1/filters/test, but an empty box takes every event, as saved),
// and the form shown again, unsaved, with the verdict.
func (d *Dashboard) TestFilter(w http.ResponseWriter, r *http.Request) error {
	var cur *hookline.Endpoint
	if id := r.PathValue("id"); id != "" {
		var err error
		if cur, err = d.app.Endpoint(r.Context(), id); err != nil {
			return err
		}
	}
	// Only the filter and the sample are tried: the form's other fields
	// are kept as typed and judged when it is saved.
	f, p, _ := readForm(r, cur)
	t := &f.FilterTest
	matches, reasons, err := d.app.TestFilterAsSaved(p.Filter, &app.FilterEvent{Type: t.Type, Tenant: t.Tenant, Data: json.RawMessage(strings.TrimSpace(t.Data))})
	status := http.StatusOK
	if err != nil {
		if !formError(err) {
			return err
		}
		f.setError(err)
		status = httperr.Status(err)
	} else {
		t.Ran, t.Matches, t.Reasons = true, matches, reasons
	}
	if cur == nil {
		return d.Render(w, r, status, "endpoint_new", "New endpoint", f)
	}
	return d.renderEndpointForm(w, r, cur, f, status)
}
