package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strconv"
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
	eps, more, err := d.app.ListEndpoints(ctx, hookline.EndpointFilter{
		Page: hookline.Page{Limit: pageSize, StartingAfter: r.URL.Query().Get("after")}})
	if err != nil {
		return err
	}
	ids := make([]string, len(eps))
	for i, e := range eps {
		ids[i] = e.ID
	}
	stats, err := d.app.EndpointsDay(ctx, ids)
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
	Signing     string
	// Filter is the filter's JSON as typed; RetrySchedule its durations,
	// comma-separated ("" is the server's schedule).
	Filter        string
	RetrySchedule string
	// HeaderNames are the endpoint's static headers, by name only: their
	// values are secrets and never reach the page. AddHeaders are the
	// "Name: value" lines typed to add or replace some.
	HeaderNames   []string
	AddHeaders    string
	RemoveHeaders []string
	// The delivery limits as typed; "" is the server's default (no rate
	// limit, unordered).
	MaxConcurrency  string
	TimeoutSeconds  string
	Ordering        string
	RatePerSecond   string
	RateBurst       string
	BreakerFailures string
	// FilterTest is the "Test filter" box: a sample event and the verdict.
	FilterTest filterTest
	Err        string
	ErrCode    string
	ErrParam   string
}

func (f endpointForm) formError() string { return f.Err }

// setError shows err on the form as the API would answer it: the message,
// the code and the parameter at fault.
func (f *endpointForm) setError(err error) {
	f.Err, f.ErrCode, f.ErrParam = hookline.ErrorMessage(err), hookline.ErrorCode(err), hookline.ErrorParam(err)
}

// Removing reports whether the form ticked the header name for removal.
func (f endpointForm) Removing(name string) bool { return slices.Contains(f.RemoveHeaders, name) }

// Invalid reports whether the error names param, or one of its entries
// or members (headers[X-Token], retry_schedule[2], event.data): the field
// to mark.
func (f endpointForm) Invalid(param string) bool {
	return f.ErrParam == param || strings.HasPrefix(f.ErrParam, param+"[") || strings.HasPrefix(f.ErrParam, param+".")
}

func (d *Dashboard) NewEndpoint(w http.ResponseWriter, r *http.Request) error {
	return d.Render(w, r, http.StatusOK, "endpoint_new", "New endpoint",
		endpointForm{Events: "*", Scheme: hookline.SchemeStandard, Signing: hookline.SigningHMAC, FilterTest: newFilterTest()})
}

// readForm reads the endpoint form into the parameters the API takes, so
// that app.CreateEndpoint and app.UpdateEndpoint judge it by the same
// rules and answer the same errors. cur is the endpoint being edited (nil
// when creating): the form sends what a PATCH would, the signing only
// when it changes and the headers only when some are added or removed,
// so an error names the field the user changed, as the API's does.
func readForm(r *http.Request, cur *hookline.Endpoint) (endpointForm, app.EndpointParams, error) {
	f := endpointForm{
		URL: strings.TrimSpace(r.PostFormValue("url")), Events: r.PostFormValue("events"),
		Description: r.PostFormValue("description"), Tenant: strings.TrimSpace(r.PostFormValue("tenant")),
		Scheme: r.PostFormValue("scheme"), Signing: r.PostFormValue("signing"),
		Filter: r.PostFormValue("filter"), RetrySchedule: r.PostFormValue("retry_schedule"),
		AddHeaders: r.PostFormValue("add_headers"), FilterTest: readFilterTest(r),
		MaxConcurrency: strings.TrimSpace(r.PostFormValue("max_concurrency")), TimeoutSeconds: strings.TrimSpace(r.PostFormValue("timeout_seconds")),
		Ordering: strings.TrimSpace(r.PostFormValue("ordering")), RatePerSecond: strings.TrimSpace(r.PostFormValue("rate_limit_per_second")),
		RateBurst: strings.TrimSpace(r.PostFormValue("rate_limit_burst")), BreakerFailures: strings.TrimSpace(r.PostFormValue("breaker_failures")),
	}
	if cur != nil {
		f.ID = cur.ID
	}
	events := strings.FieldsFunc(f.Events, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
	if events == nil {
		events = []string{}
	}
	p := app.EndpointParams{URL: &f.URL, EnabledEvents: &events, Description: &f.Description, Tenant: &f.Tenant, SignatureScheme: &f.Scheme}
	if f.Signing != "" && (cur == nil || cur.Signing() != f.Signing) {
		p.Signing = &f.Signing
	}
	// An empty box is no filter (null), as in the API and the CLI; what is
	// typed goes to the app as it is, which judges it. A form without the
	// box (a page from before it) leaves the field alone.
	if _, ok := r.PostForm["filter"]; ok {
		p.Filter = json.RawMessage("null")
		if filter := strings.TrimSpace(f.Filter); filter != "" {
			p.Filter = json.RawMessage(filter)
		}
	}
	if _, ok := r.PostForm["retry_schedule"]; ok {
		p.RetrySchedule = json.RawMessage("null")
		if strings.TrimSpace(f.RetrySchedule) != "" {
			// Every entry as typed, an empty one too ("5s,,10s"): the app
			// refuses it naming retry_schedule[1], as the API and the
			// CLI do, rather than the form shortening the schedule.
			entries := hookline.RetryScheduleEntries(f.RetrySchedule)
			p.RetrySchedule, _ = json.Marshal(entries) // strings always marshal
		}
	}
	readLimits(r, f, &p)
	if cur != nil {
		f.HeaderNames = slices.Sorted(maps.Keys(cur.Headers))
	}
	f.RemoveHeaders = r.PostForm["remove_header"]
	headers, changed, err := readHeaders(r, cur, f.AddHeaders)
	if err != nil {
		return f, p, err
	}
	if changed {
		p.Headers = &headers
	}
	return f, p, nil
}

// readLimits sets the delivery limits the form sends, as the API's fields:
// an empty box is null (the server's default, or no rate limit), and what
// is typed goes to the app as it is, which judges it, so that a bad value
// gets the API's error naming the API's field. A form without a box (a
// page from before it) leaves its field alone.
func readLimits(r *http.Request, f endpointForm, p *app.EndpointParams) {
	if _, ok := r.PostForm["max_concurrency"]; ok {
		p.MaxConcurrency = formNumber(f.MaxConcurrency)
	}
	if _, ok := r.PostForm["timeout_seconds"]; ok {
		p.TimeoutSeconds = formNumber(f.TimeoutSeconds)
	}
	if _, ok := r.PostForm["ordering"]; ok {
		p.Ordering = json.RawMessage("null")
		if f.Ordering != "" {
			p.Ordering, _ = json.Marshal(f.Ordering) // strings always marshal
		}
	}
	if _, ok := r.PostForm["rate_limit_per_second"]; ok {
		p.RateLimit = json.RawMessage("null")
		// A burst alone is sent as the API would get it, without a rate,
		// so that the app names the rate missing.
		if f.RatePerSecond != "" || f.RateBurst != "" {
			rl := map[string]json.RawMessage{}
			if f.RatePerSecond != "" {
				rl["per_second"] = formNumber(f.RatePerSecond)
			}
			if f.RateBurst != "" {
				rl["burst"] = formNumber(f.RateBurst)
			}
			p.RateLimit, _ = json.Marshal(rl) // valid JSON values always marshal
		}
	}
	if _, ok := r.PostForm["breaker_failures"]; ok {
		p.CircuitBreaker = json.RawMessage("null")
		if f.BreakerFailures != "" {
			p.CircuitBreaker, _ = json.Marshal(map[string]json.RawMessage{"failures": formNumber(f.BreakerFailures)})
		}
	}
}

// formNumber is a number box's text as a JSON value: null when empty, the
// number when it is one, and otherwise the text as a string, which the app
// refuses as it refuses one sent to the API.
func formNumber(s string) json.RawMessage {
	if s == "" {
		return json.RawMessage("null")
	}
	if b := []byte(s); json.Valid(b) && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') {
		return b
	}
	quoted, _ := json.Marshal(s) // strings always marshal
	return quoted
}

// limitsForm is e's own delivery limits as the form shows them: blank
// where e takes the server's default.
func limitsForm(f *endpointForm, e *hookline.Endpoint) {
	if e.MaxConcurrency > 0 {
		f.MaxConcurrency = strconv.Itoa(e.MaxConcurrency)
	}
	if e.Timeout > 0 {
		f.TimeoutSeconds = strconv.Itoa(int(e.Timeout / time.Second))
	}
	f.Ordering = hookline.OrderingUnordered
	if e.FIFO() {
		f.Ordering = hookline.OrderingFIFO
	}
	if rl := e.RateLimit; rl != nil {
		f.RatePerSecond = strconv.FormatFloat(rl.PerSecond, 'f', -1, 64)
		if rl.Burst > 0 {
			f.RateBurst = strconv.Itoa(rl.Burst)
		}
	}
	if e.BreakerFailures > 0 {
		f.BreakerFailures = strconv.Itoa(e.BreakerFailures)
	}
}

// readHeaders works out an endpoint's static headers from the form: the
// current ones (their values never left the server) less those ticked for
// removal, plus the "Name: value" lines typed, which replace a header of
// the same name. It reports whether anything changed.
func readHeaders(r *http.Request, cur *hookline.Endpoint, lines string) (map[string]string, bool, error) {
	h := map[string]string{}
	// Headers whose values did not open are blank here: they are typed
	// anew, all of them, or the blanks would be saved as their values.
	if cur != nil && (cur.SealErr == nil || !cur.SealErr.Headers) {
		maps.Copy(h, cur.Headers)
	}
	changed := false
	for _, name := range r.PostForm["remove_header"] {
		// A name the endpoint does not have (removed meanwhile) is no change.
		if _, ok := h[name]; ok {
			delete(h, name)
			changed = true
		}
	}
	for _, line := range strings.Split(lines, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		// Decoding only, as the CLI's --header: app.CreateEndpoint and
		// app.UpdateEndpoint judge the names and values.
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return h, changed, hookline.Invalid("headers", "each line adds a header as 'Name: value'; %q has no colon", strings.TrimSpace(line))
		}
		h[strings.TrimSpace(name)] = strings.TrimSpace(value)
		changed = true
	}
	return h, changed, nil
}

// formError reports whether err is one a form shows beside its fields
// (bad input, a conflict) rather than on an error page.
func formError(err error) bool {
	code := hookline.ErrorCode(err)
	return code == hookline.EINVALID || code == hookline.ECONFLICT
}

// CreateEndpoint is POST /endpoints.
func (d *Dashboard) CreateEndpoint(w http.ResponseWriter, r *http.Request) error {
	f, p, err := readForm(r, nil)
	var e *hookline.Endpoint
	if err == nil {
		e, _, err = d.app.CreateEndpoint(r.Context(), p, app.ByDashboard)
	}
	if err != nil {
		if formError(err) {
			f.setError(err)
			return d.Render(w, r, httperr.Status(err), "endpoint_new", "New endpoint", f)
		}
		return err
	}
	if e.Signing() == hookline.SigningEd25519 {
		redirect(w, r, "/endpoints/"+e.ID, "Endpoint created. Give your receiver its public key, below.")
		return nil
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
	PublicKey    string // whpk_…, of an ed25519 endpoint
	KeySet       string // ks_…, the kid prefix of its keys in /.well-known/webhook-keys
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
	// HeldUntil is when the hold a receiver's 429 (Retry-After) put on
	// the endpoint ends; zero when it is not held.
	HeldUntil time.Time
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
	data := endpointData{E: e, PublicKey: app.PublicKey(e)}
	keySet, err := d.app.KeySet(ctx, e)
	if err != nil {
		return data, err
	}
	data.KeySet = keySet
	maxConcurrency, timeout := d.app.EndpointDefaults()
	data.MaxConcurrency, data.Timeout = hookline.ConcurrencyOf(e, maxConcurrency), hookline.TimeoutOf(e, timeout)
	data.Circuit = circuitView{State: d.app.CircuitState(e), Failures: e.Circuit.ConsecutiveFailures,
		BreakerFailures: d.app.BreakerFailures(e), OpenedAt: e.Circuit.OpenedAt, NextProbeAt: e.Circuit.NextProbeAt}
	if data.HeldUntil, err = d.app.EndpointHold(ctx, e.ID); err != nil {
		return data, err
	}
	if f != nil {
		data.Form = *f
	} else {
		data.Form = endpointForm{ID: e.ID, URL: e.URL, Events: strings.Join(e.EnabledEvents, ", "),
			Description: e.Description, Tenant: e.Tenant, Scheme: e.SignatureScheme, Signing: e.Signing(),
			Filter: string(e.Filter.JSON()), HeaderNames: slices.Sorted(maps.Keys(e.Headers)), FilterTest: newFilterTest()}
		limitsForm(&data.Form, e)
		switch {
		case e.RetrySchedule == nil:
		case len(e.RetrySchedule) == 0:
			data.Form.RetrySchedule = hookline.NoRetries
		default:
			data.Form.RetrySchedule = strings.Join(hookline.FormatRetrySchedule(e.RetrySchedule), ",")
		}
	}
	to := now.Truncate(30 * time.Minute).Add(30 * time.Minute)
	sf := hookline.StatsFilter{EndpointID: e.ID, From: to.Add(-24 * time.Hour), To: to, Step: 30 * time.Minute}
	stats, err := d.app.AttemptStats(ctx, sf)
	if err != nil {
		return data, err
	}
	for _, s := range stats {
		data.Day.Add(s)
	}
	w := renderWindow("Last 24 hours", sf, stats, nil)
	data.Chart, data.LatencyChart = w.Deliveries, w.Latency
	data.Attempts, _, err = d.app.EndpointAttempts(ctx, e.ID, hookline.AttemptFilter{Page: hookline.Page{Limit: 10}})
	if err != nil {
		return data, err
	}
	data.RangeFrom = now.Add(-24 * time.Hour).Format("2006-01-02T15:04")
	data.RangeTo = now.Add(time.Minute).Format("2006-01-02T15:04")
	return data, nil
}

func (d *Dashboard) Endpoint(w http.ResponseWriter, r *http.Request) error {
	e, err := d.app.Endpoint(r.Context(), r.PathValue("id"))
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
	// The endpoint as stored: its headers' values stay on the server, and
	// its signing tells whether the form changes it.
	cur, err := d.app.Endpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	f, p, err := readForm(r, cur)
	var e *hookline.Endpoint
	if err == nil {
		e, err = d.app.UpdateEndpoint(r.Context(), cur.ID, p, app.ByDashboard)
	}
	if err != nil {
		if !formError(err) {
			return err
		}
		f.setError(err)
		return d.renderEndpointForm(w, r, cur, f, httperr.Status(err))
	}
	if p.Signing != nil {
		redirect(w, r, "/endpoints/"+e.ID, fmt.Sprintf("Saved. Deliveries are now signed with %s; the previous secret signs beside it until %s.",
			e.Signing(), e.PreviousSecretExpires.UTC().Format("2006-01-02 15:04Z")))
		return nil
	}
	redirect(w, r, "/endpoints/"+e.ID, "Saved.")
	return nil
}

// renderEndpointForm shows the endpoint page with the edit form as it was
// sent, its error or filter test beside it.
func (d *Dashboard) renderEndpointForm(w http.ResponseWriter, r *http.Request, e *hookline.Endpoint, f endpointForm, status int) error {
	data, err := d.loadEndpoint(r, e, &f)
	if err != nil {
		return err
	}
	data.Err = f.Err
	return d.Render(w, r, status, "endpoint", e.URL, data)
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

// BulkResend is POST /endpoints/{id}/resend-failed: a recover job over
// the form's time range (app.Recover).
func (d *Dashboard) BulkResend(w http.ResponseWriter, r *http.Request) error {
	e, err := d.app.Endpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	// Reading the form is all that is done here: app.Recover checks the
	// range (start before end, how far back) as for the API.
	from, err1 := time.Parse("2006-01-02T15:04", r.PostFormValue("from"))
	to, err2 := time.Parse("2006-01-02T15:04", r.PostFormValue("to"))
	if err1 != nil || err2 != nil {
		return hookline.Invalid("from", "give a time range (UTC): a start and an end")
	}
	job, err := d.app.Recover(r.Context(), e.ID, from, to) // the job of POST /v1/endpoints/{id}/recover
	if err != nil {
		return rangeFormError(err)
	}
	http.Redirect(w, r, "/jobs/"+job.ID, http.StatusSeeOther)
	return nil
}

// rangeFormError words app.Recover's errors about its range (since,
// until) in the bulk resend form's terms: its fields are from and to, its
// labels a start and an end.
func rangeFormError(err error) error {
	var e *hookline.Error
	if !errors.As(err, &e) || e.Code != hookline.EINVALID || e.Param != "since" {
		return err
	}
	words := strings.NewReplacer("since", "the start", "until", "the end")
	return hookline.Invalid("from", "%s", words.Replace(e.Message))
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
