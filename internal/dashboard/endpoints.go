package dashboard

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/httperr"
)

// The endpoint pages and forms: list, create, edit, enable and disable,
// rotate and reveal the secret, test events, bulk resend.

type endpointRow struct {
	E       *hookline.Endpoint
	Stats   hookline.StatsBucket
	HasData bool
}

type endpointsData struct {
	Rows []endpointRow
	Next string
}

func (d *Dashboard) Endpoints(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	eps, more, err := d.store.ListEndpoints(ctx, hookline.EndpointFilter{
		Page: hookline.Page{Limit: pageSize, StartingAfter: r.URL.Query().Get("after")}})
	if err != nil {
		return err
	}
	ids := make([]string, len(eps))
	for i, e := range eps {
		ids[i] = e.ID
	}
	stats, err := d.store.EndpointStats(ctx, d.app.Now().Add(-24*time.Hour), ids)
	if err != nil {
		return err
	}
	data := endpointsData{}
	for _, e := range eps {
		s, ok := stats[e.ID]
		data.Rows = append(data.Rows, endpointRow{E: e, Stats: s, HasData: ok && s.Attempts > 0})
	}
	if more && len(eps) > 0 {
		data.Next = eps[len(eps)-1].ID
	}
	return d.Render(w, r, http.StatusOK, "endpoints", "Endpoints", data)
}

type endpointForm struct {
	ID          string
	URL         string
	Events      string
	Description string
	Tenant      string
	Scheme      string
	Err         string
}

func (f endpointForm) formError() string { return f.Err }

func (d *Dashboard) NewEndpoint(w http.ResponseWriter, r *http.Request) error {
	return d.Render(w, r, http.StatusOK, "endpoint_new", "New endpoint", endpointForm{Events: "*", Scheme: hookline.SchemeStandard})
}

// readForm reads the endpoint form into the parameters the API takes, so
// that app.CreateEndpoint and app.UpdateEndpoint judge it by the same
// rules and answer the same errors.
func readForm(r *http.Request, id string) (endpointForm, app.EndpointParams) {
	f := endpointForm{
		ID: id, URL: strings.TrimSpace(r.PostFormValue("url")), Events: r.PostFormValue("events"),
		Description: r.PostFormValue("description"), Tenant: strings.TrimSpace(r.PostFormValue("tenant")),
		Scheme: r.PostFormValue("scheme"),
	}
	events := strings.FieldsFunc(f.Events, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
	if events == nil {
		events = []string{}
	}
	return f, app.EndpointParams{URL: &f.URL, EnabledEvents: &events, Description: &f.Description, Tenant: &f.Tenant, SignatureScheme: &f.Scheme}
}

// formError reports whether err is one a form shows beside its fields
// (bad input, a conflict) rather than on an error page.
func formError(err error) bool {
	code := hookline.ErrorCode(err)
	return code == hookline.EINVALID || code == hookline.ECONFLICT
}

// CreateEndpoint is POST /endpoints.
func (d *Dashboard) CreateEndpoint(w http.ResponseWriter, r *http.Request) error {
	f, p := readForm(r, "")
	e, err := d.app.CreateEndpoint(r.Context(), p, app.ByDashboard)
	if err != nil {
		if formError(err) {
			f.Err = hookline.ErrorMessage(err)
			return d.Render(w, r, httperr.Status(err), "endpoint_new", "New endpoint", f)
		}
		return err
	}
	redirect(w, r, "/endpoints/"+e.ID, "Endpoint created. Reveal its secret below to configure your receiver.")
	return nil
}

type endpointData struct {
	E            *hookline.Endpoint
	Form         endpointForm
	Day          hookline.StatsBucket
	Chart        template.HTML
	Attempts     []*hookline.Attempt
	Secret       string // shown after "reveal"
	Previous     string
	PreviousExp  time.Time
	RangeFrom    string
	RangeTo      string
	FailedTotal  int
	Err          string
	LatencyChart template.HTML
	// MaxConcurrency and Timeout are the endpoint's, or the server's
	// defaults it takes.
	MaxConcurrency int
	Timeout        time.Duration
	// Circuit is the endpoint's circuit breaker as shown now, and
	// BreakerFailures the failures in a row that open it.
	Circuit circuitView
}

// circuitView is an endpoint's circuit for the "circuit" block.
type circuitView struct {
	State           string // closed, open or half_open
	Failures        int    // consecutive failed attempts so far
	BreakerFailures int
	OpenedAt        time.Time
	NextProbeAt     time.Time
}

func (e endpointData) formError() string { return e.Err }

func (d *Dashboard) loadEndpoint(r *http.Request, e *hookline.Endpoint, f *endpointForm) (endpointData, error) {
	ctx := r.Context()
	now := d.app.Now().UTC()
	data := endpointData{E: e}
	maxConcurrency, timeout := d.app.EndpointDefaults()
	data.MaxConcurrency, data.Timeout = hookline.ConcurrencyOf(e, maxConcurrency), hookline.TimeoutOf(e, timeout)
	data.Circuit = circuitView{State: d.app.CircuitState(e), Failures: e.Circuit.ConsecutiveFailures,
		BreakerFailures: d.app.BreakerFailures(e), OpenedAt: e.Circuit.OpenedAt, NextProbeAt: e.Circuit.NextProbeAt}
	if f != nil {
		data.Form = *f
	} else {
		data.Form = endpointForm{ID: e.ID, URL: e.URL, Events: strings.Join(e.EnabledEvents, ", "),
			Description: e.Description, Tenant: e.Tenant, Scheme: e.SignatureScheme}
	}
	to := now.Truncate(30 * time.Minute).Add(30 * time.Minute)
	sf := hookline.StatsFilter{EndpointID: e.ID, From: to.Add(-24 * time.Hour), To: to, Step: 30 * time.Minute}
	stats, err := d.store.AttemptStats(ctx, sf)
	if err != nil {
		return data, err
	}
	for _, s := range stats {
		data.Day.Add(s)
	}
	w := renderWindow("Last 24 hours", sf, stats, nil)
	data.Chart, data.LatencyChart = w.Deliveries, w.Latency
	data.Attempts, _, err = d.store.ListAttempts(ctx, hookline.AttemptFilter{EndpointID: e.ID, Page: hookline.Page{Limit: 10}})
	if err != nil {
		return data, err
	}
	data.RangeFrom = now.Add(-24 * time.Hour).Format("2006-01-02T15:04")
	data.RangeTo = now.Add(time.Minute).Format("2006-01-02T15:04")
	return data, nil
}

func (d *Dashboard) Endpoint(w http.ResponseWriter, r *http.Request) error {
	e, err := d.store.Endpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	data, err := d.loadEndpoint(r, e, nil)
	if err != nil {
		return err
	}
	return d.Render(w, r, http.StatusOK, "endpoint", e.URL, data)
}

// UpdateEndpoint is POST /endpoints/{id}: the edit form.
func (d *Dashboard) UpdateEndpoint(w http.ResponseWriter, r *http.Request) error {
	f, p := readForm(r, r.PathValue("id"))
	e, err := d.app.UpdateEndpoint(r.Context(), f.ID, p, app.ByDashboard)
	if err != nil {
		if !formError(err) || e == nil {
			return err
		}
		data, lerr := d.loadEndpoint(r, e, &f)
		if lerr != nil {
			return lerr
		}
		data.Err = hookline.ErrorMessage(err)
		return d.Render(w, r, httperr.Status(err), "endpoint", e.URL, data)
	}
	redirect(w, r, "/endpoints/"+e.ID, "Saved.")
	return nil
}

// SetStatus is POST /endpoints/{id}/status: enable or disable.
func (d *Dashboard) SetStatus(w http.ResponseWriter, r *http.Request) error {
	status := r.PostFormValue("status")
	e, err := d.app.UpdateEndpoint(r.Context(), r.PathValue("id"), app.EndpointParams{Status: &status}, app.ByDashboard)
	if err != nil {
		return err
	}
	redirect(w, r, "/endpoints/"+e.ID, "Endpoint "+e.Status+".")
	return nil
}

// Rotate is POST /endpoints/{id}/rotate: a new secret, the old one signing
// beside it for the server's overlap.
func (d *Dashboard) Rotate(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	_, overlap, err := d.app.RotateSecret(r.Context(), id, app.RotateParams{}, app.ByDashboard)
	if err != nil {
		return err
	}
	redirect(w, r, "/endpoints/"+id, fmt.Sprintf("Secret rotated. The previous one keeps signing for %s.", overlap))
	return nil
}

// Reveal is POST /endpoints/{id}/reveal: the secret is shown on a POST
// (never a GET), so that it is never in a URL, a history entry or a cached
// page.
func (d *Dashboard) Reveal(w http.ResponseWriter, r *http.Request) error {
	e, sec, err := d.app.EndpointSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	data, err := d.loadEndpoint(r, e, nil)
	if err != nil {
		return err
	}
	data.Secret, data.Previous, data.PreviousExp = sec.Secret, sec.PreviousSecret, sec.PreviousSecretExpires
	return d.Render(w, r, http.StatusOK, "endpoint", e.URL, data)
}

// TestEventType is the type of the events "Send test event" publishes.
const TestEventType = app.TestEventType

// SendTest is POST /endpoints/{id}/test: a test event to this endpoint
// alone (app.SendTestEvent).
func (d *Dashboard) SendTest(w http.ResponseWriter, r *http.Request) error {
	res, err := d.app.SendTestEvent(r.Context(), r.PathValue("id"), app.ByDashboard)
	if err != nil {
		return err
	}
	redirect(w, r, "/events/"+res.Event.ID, "Test event sent.")
	return nil
}

func (d *Dashboard) BulkResend(w http.ResponseWriter, r *http.Request) error {
	e, err := d.store.Endpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	from, err1 := time.Parse("2006-01-02T15:04", r.PostFormValue("from"))
	to, err2 := time.Parse("2006-01-02T15:04", r.PostFormValue("to"))
	if err1 != nil || err2 != nil || !from.Before(to) {
		return hookline.Invalid("from", "give a time range (UTC) whose start is before its end")
	}
	job, err := d.app.Recover(r.Context(), e.ID, from, to) // the job of POST /v1/endpoints/{id}/recover
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/jobs/"+job.ID, http.StatusSeeOther)
	return nil
}

// Job shows a bulk resend's progress, read from the store, so any node
// shows it and it outlives a restart.
func (d *Dashboard) Job(w http.ResponseWriter, r *http.Request) error {
	stored, err := d.app.Job(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	j := viewJob(stored)
	if r.URL.Query().Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		return json.NewEncoder(w).Encode(j)
	}
	return d.Render(w, r, http.StatusOK, "job", "Bulk resend", j)
}
